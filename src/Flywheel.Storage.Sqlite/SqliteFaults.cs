using System.Runtime.InteropServices;
using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>
/// Tells a disk that cannot take a write (full, read-only, failing) from every other SQLite error, and words it for the
/// operator. SQLite reports a full disk as <c>SQLITE_FULL</c> and a read-only file as <c>SQLITE_READONLY</c>, but a
/// file system the kernel turned read-only under an open file, a quota, or a shared-memory file that cannot grow all
/// come back as <c>SQLITE_IOERR</c> (or <c>SQLITE_CANTOPEN</c>); only the system error behind it says which.
/// </summary>
internal static class SqliteFaults
{
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;

    /// <summary>
    /// Free space under which a probe still calls the disk full. The one page a probe writes can fit where a group
    /// commit of many calls does not; without a margin, readiness would flip back to ready on a disk that refuses the
    /// next real write. <value>1 MiB.</value>
    /// </summary>
    public const long ProbeFreeBytes = 1024 * 1024;

    /// <summary>Bytes free for this user on the file system holding <paramref name="directory"/>, or null when the system will not say.</summary>
    public static long? FreeBytes(string directory)
    {
        try
        {
            return new DriveInfo(OperatingSystem.IsWindows() ? System.IO.Path.GetPathRoot(directory)! : directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The system error (errno, or GetLastError on Windows) SQLite saw at the connection's last I/O failure; 0 when unknown.</summary>
    public static int SystemError(SqliteConnection connection)
    {
        var handle = connection.Handle;
        if (handle is null || handle.IsInvalid)
        {
            return 0;
        }
        try
        {
            return NativeMethods.sqlite3_system_errno(handle.DangerousGetHandle());
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0; // another SQLite build: the result code alone decides
        }
    }

    /// <summary>The disk fault behind <paramref name="exception"/>, or null for an error of another kind (a constraint, a bug).</summary>
    public static StoreWriteFailure? Classify(SqliteException exception, int systemError) => (exception.SqliteErrorCode & 0xff) switch
    {
        SqliteFull => StoreWriteFailure.DiskFull,
        SqliteReadOnly => StoreWriteFailure.ReadOnly,
        SqliteIoError => FromSystemError(systemError) ?? StoreWriteFailure.IoError,
        SqliteCantOpen => FromSystemError(systemError),
        _ => null,
    };

    /// <summary>The disk fault behind a failed file operation of .NET (creating the directory or the lock file), or null.</summary>
    public static StoreWriteFailure? Classify(Exception exception) => exception switch
    {
        UnauthorizedAccessException => StoreWriteFailure.ReadOnly,
        // On Unix an IOException's HResult is the errno; on Windows it carries the Win32 error in its low word.
        IOException io => FromSystemError(OperatingSystem.IsWindows() ? io.HResult & 0xffff : io.HResult),
        _ => null,
    };

    /// <summary>
    /// Whether a new file can be created in <paramref name="directory"/>: null when it can (or for a reason that is not
    /// a disk fault), else why not, in the system's words. Only on the path of a failed open, to tell a read-only
    /// directory from other causes.
    /// </summary>
    public static (StoreWriteFailure Reason, string Cause)? ProbeDirectory(string directory)
    {
        try
        {
            using var probe = new FileStream(System.IO.Path.Combine(directory, $".flywheel-probe-{Guid.NewGuid():N}"),
                FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && Classify(ex) is { } reason)
        {
            var cause = ex is IOException && !OperatingSystem.IsWindows() ? Marshal.GetPInvokeErrorMessage(ex.HResult) : ex.GetType().Name;
            return (reason, $"{cause}: a new file cannot be created there");
        }
    }

    private static StoreWriteFailure? FromSystemError(int error)
    {
        if (OperatingSystem.IsWindows())
        {
            return error switch
            {
                39 or 112 => StoreWriteFailure.DiskFull, // ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL
                5 or 19 => StoreWriteFailure.ReadOnly, // ERROR_ACCESS_DENIED, ERROR_WRITE_PROTECT
                _ => null,
            };
        }
        return error switch
        {
            28 => StoreWriteFailure.DiskFull, // ENOSPC
            122 when OperatingSystem.IsLinux() => StoreWriteFailure.DiskFull, // EDQUOT
            69 when OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() => StoreWriteFailure.DiskFull, // EDQUOT
            30 or 13 or 1 => StoreWriteFailure.ReadOnly, // EROFS, EACCES, EPERM
            _ => null,
        };
    }

    /// <summary>What the store's own error says, with the system's words for the error behind it when there is one.</summary>
    public static string Cause(Exception exception, int systemError = 0)
    {
        var cause = exception.Message.TrimEnd('.');
        if (systemError != 0)
        {
            cause += $" ({Marshal.GetPInvokeErrorMessage(systemError)})";
        }
        return cause.ReplaceLineEndings(" ");
    }

    /// <summary>A write that failed while the store runs: one line naming the directory, the fault and what to do.</summary>
    public static FlywheelStoreWriteException WriteFault(StoreWriteFailure reason, string directory, string cause, Exception inner)
        => new(reason, $"cannot write to the data directory '{directory}': {What(reason)} ({cause}); {Advice(reason)}. " +
            "Nothing acknowledged is lost, and writes resume without a restart once it is fixed", inner);

    /// <summary>A store that cannot open for writing at all: one line naming the directory, the fault and what to do.</summary>
    public static FlywheelStoreUnavailableException OpenFault(StoreWriteFailure reason, string directory, string cause, Exception inner)
        => new($"cannot open the store in '{directory}' for writing: {What(reason)} ({cause}); {Advice(reason)}, then start again",
            new FlywheelStoreWriteException(reason, $"{What(reason)} ({cause})", inner));

    /// <summary>The database file itself refuses writes although its directory takes them.</summary>
    public static FlywheelStoreUnavailableException ReadOnlyFile(string path)
        => new($"cannot open the store in '{System.IO.Path.GetDirectoryName(path)}' for writing: the database file '{path}' is read-only " +
            "(a read-only mount, or not writable by this user); make it writable, then start again",
            new FlywheelStoreWriteException(StoreWriteFailure.ReadOnly, $"the database file '{path}' is read-only"));

    private static string What(StoreWriteFailure reason) => reason switch
    {
        StoreWriteFailure.DiskFull => "the disk is full",
        StoreWriteFailure.ReadOnly => "it is read-only or not writable by this user",
        _ => "the disk failed a write",
    };

    private static string Advice(StoreWriteFailure reason) => reason switch
    {
        StoreWriteFailure.DiskFull => "free space on that disk",
        StoreWriteFailure.ReadOnly => "remount it read-write or give this user write permission (a file system the kernel turned " +
            "read-only after disk errors needs checking first: see the kernel log)",
        _ => "check the kernel log for disk errors",
    };

    private static class NativeMethods
    {
        // Not in SQLitePCLRaw's API; the bundled e_sqlite3 exports it like every SQLite build since 3.12. A plain
        // DllImport: the signature is blittable, and LibraryImport would need unsafe code in the project.
        [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int sqlite3_system_errno(nint db);
    }
}
