using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite.Tests;

/// <summary>
/// Which SQLite errors are a disk that cannot take writes, and which kind (issue 15, point 6). The faults themselves,
/// on real file systems, are in the server's FaultTests and the CLI's StoreFaultCommandTests.
/// </summary>
public sealed class StoreFaultClassificationTests
{
    public static TheoryData<string, int, int, int, StoreWriteFailure?> Errors => new()
    {
        { "SQLITE_FULL", 13, 13, 0, StoreWriteFailure.DiskFull },
        { "SQLITE_READONLY", 8, 8, 0, StoreWriteFailure.ReadOnly },
        { "SQLITE_READONLY_DBMOVED", 8, 1032, 0, StoreWriteFailure.ReadOnly },
        { "SQLITE_READONLY_DIRECTORY", 8, 1544, 0, StoreWriteFailure.ReadOnly },
        { "IOERR_WRITE, EROFS (the kernel made the disk read-only)", 10, 778, 30, StoreWriteFailure.ReadOnly },
        { "IOERR_WRITE, EACCES", 10, 778, 13, StoreWriteFailure.ReadOnly },
        { "IOERR_WRITE, ENOSPC", 10, 778, 28, StoreWriteFailure.DiskFull },
        { "IOERR_SHMSIZE, ENOSPC", 10, 4874, 28, StoreWriteFailure.DiskFull },
        { "IOERR_WRITE, EIO", 10, 778, 5, StoreWriteFailure.IoError },
        { "IOERR_FSYNC, errno unknown", 10, 1034, 0, StoreWriteFailure.IoError },
        { "CANTOPEN, EROFS", 14, 14, 30, StoreWriteFailure.ReadOnly },
        { "CANTOPEN, ENOENT (not a disk fault)", 14, 14, 2, null },
        { "CONSTRAINT (a bug, not the disk)", 19, 1555, 0, null },
        { "CORRUPT", 11, 11, 0, null },
        { "BUSY", 5, 5, 0, null },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Classify_SqliteError_TheDiskFaultOrNone(string name, int code, int extended, int errno, StoreWriteFailure? expected)
    {
        var error = new SqliteException(name, code, extended);

        Assert.Equal(expected, SqliteFaults.Classify(error, errno));
    }

    [Fact]
    public void Classify_FileOperation_ReadOnlyFullOrNone()
    {
        Assert.Equal(StoreWriteFailure.ReadOnly, SqliteFaults.Classify(new UnauthorizedAccessException("denied")));
        Assert.Equal(StoreWriteFailure.ReadOnly, SqliteFaults.Classify(new IOException("Read-only file system", 30)));
        Assert.Equal(StoreWriteFailure.DiskFull, SqliteFaults.Classify(new IOException("No space left on device", 28)));
        Assert.Null(SqliteFaults.Classify(new IOException("Resource temporarily unavailable", 11)));
    }

    [Fact]
    public void WriteFault_OneLineNamingTheDirectoryTheFaultAndWhatToDo()
    {
        var fault = SqliteFaults.WriteFault(StoreWriteFailure.DiskFull, "/srv/flywheel", "SQLite Error 13: 'database or disk is full'", new IOException());

        Assert.Equal(StoreWriteFailure.DiskFull, fault.Reason);
        Assert.Equal(TimeSpan.FromSeconds(10), fault.RetryAfter);
        Assert.DoesNotContain('\n', fault.Message);
        Assert.StartsWith("cannot write to the data directory '/srv/flywheel': the disk is full (SQLite Error 13", fault.Message, StringComparison.Ordinal);
        Assert.Contains("free space on that disk", fault.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing acknowledged is lost", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckWritableAsync_WritableStore_Succeeds()
    {
        var directory = Path.Combine(Path.GetTempPath(), "flywheel-sqlite-probe-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = directory });

            await store.CheckWritableAsync();

            Assert.Equal(SqliteFlywheelStore.SchemaVersion, Convert.ToInt32(await store.ReadWriterPragmaAsync("user_version"), System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
