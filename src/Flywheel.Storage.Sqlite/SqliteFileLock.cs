using System.Globalization;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Storage.Sqlite;

/// <summary>
/// One process per database file. SQLite itself lets two processes share a file, but two engines on one log each
/// believe they are its only writer: each closes windows and numbers rewards on its own, and the second fails its
/// commits on constraint errors. An exclusive lock on a file beside the database (flock on Unix, a share-none handle
/// on Windows) turns that into a clear refusal at start. The lock goes with the process, however it ends.
/// </summary>
internal sealed class SqliteFileLock : IDisposable
{
    private readonly FileStream _stream;

    private SqliteFileLock(FileStream stream) => _stream = stream;

    /// <summary>The lock file's path for a database file.</summary>
    public static string PathFor(string databasePath) => databasePath + ".lock";

    /// <summary>Takes the lock, or throws naming the directory and the holder's process id.</summary>
    public static SqliteFileLock Acquire(string databasePath)
    {
        var path = PathFor(databasePath);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !IsHeldElsewhere(ex) && SqliteFaults.Classify(ex) is { } reason)
        {
            // A read-only directory or a full disk is not another process: say what it is.
            throw SqliteFaults.OpenFault(reason, System.IO.Path.GetDirectoryName(databasePath)!, SqliteFaults.Cause(ex), ex);
        }
        catch (IOException ex)
        {
            var holder = ReadHolder(path + ".pid");
            throw new FlywheelStoreUnavailableException(
                $"the data directory '{System.IO.Path.GetDirectoryName(databasePath)}' is in use by another Flywheel process" +
                (holder is null ? "" : $" (pid {holder})") + "; stop it, or give this one another --data-dir", ex);
        }
        try
        {
            // The holder's pid, for the message another process prints. It sits in a file of its own: .NET takes a
            // shared lock to open a file for reading, which the exclusive lock on this one refuses.
            File.WriteAllText(path + ".pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n", Encoding.ASCII);
        }
        catch (IOException)
        {
            // Only a courtesy for the other process's message; the lock holds without it.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return new SqliteFileLock(stream);
    }

    /// <summary>Whether opening the lock file failed because another process holds the lock (flock's EWOULDBLOCK, a Windows sharing violation).</summary>
    private static bool IsHeldElsewhere(Exception ex) => ex is IOException && (OperatingSystem.IsWindows()
        ? (ex.HResult & 0xffff) is 32 or 33 // ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
        : ex.HResult == (OperatingSystem.IsLinux() ? 11 : 35)); // EWOULDBLOCK

    private static string? ReadHolder(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return string.IsNullOrEmpty(text) ? null : text;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Releases the lock; the file stays, so a process taking it next never races a deletion.</summary>
    public void Dispose() => _stream.Dispose();
}
