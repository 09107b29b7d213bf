using System.Diagnostics;

namespace Flywheel.TestUtils;

/// <summary>
/// A file system of its own for a fault test: a small tmpfs to fill up, or an ext4 image that the kernel can be told to
/// turn read-only under open files, as it does after disk errors. Mounting needs root, which CI and the development
/// machines have; without it the test fails saying so rather than being skipped. Unmounted and removed on dispose.
/// </summary>
public sealed class TestMount : IDisposable
{
    private static readonly TimeSpan CommandGuard = TimeSpan.FromMinutes(2);

    private readonly string _root;
    private readonly string? _image;
    private readonly List<string> _binds = [];
    private bool _mounted;

    private TestMount(string root, string? image)
    {
        _root = root;
        _image = image;
        Path = System.IO.Path.Combine(root, "mnt");
        Directory.CreateDirectory(Path);
    }

    /// <summary>Where the file system is mounted.</summary>
    public string Path { get; }

    /// <summary>Bytes a new file may still take on the file system.</summary>
    public long AvailableBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>A tmpfs of <paramref name="size"/> (mount's notation: <c>8m</c>).</summary>
    public static TestMount Tmpfs(string size)
    {
        var mount = new TestMount(Directory.CreateTempSubdirectory("flywheel-tmpfs-").FullName, null);
        try
        {
            Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", mount.Path);
            mount._mounted = true;
            return mount;
        }
        catch
        {
            mount.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An ext4 file system of <paramref name="megabytes"/> MB in an image file, on a loop device, mounted with
    /// <c>errors=remount-ro</c> so that <see cref="FailExt4"/> makes it read-only under open files.
    /// </summary>
    public static TestMount Ext4(int megabytes)
    {
        var root = Directory.CreateTempSubdirectory("flywheel-ext4-").FullName;
        var image = System.IO.Path.Combine(root, "disk.img");
        var mount = new TestMount(root, image);
        try
        {
            using (var file = new FileStream(image, FileMode.CreateNew))
            {
                file.SetLength(megabytes * 1024L * 1024L);
            }
            Run("mkfs.ext4", "-q", "-F", image);
            mount.MountImage();
            return mount;
        }
        catch
        {
            mount.Dispose();
            throw;
        }
    }

    /// <summary>Mounts the ext4 image again after <see cref="Unmount"/> (the journal is replayed; the data is read back).</summary>
    public void MountImage()
    {
        if (_image is null)
        {
            throw new InvalidOperationException("only an ext4 image can be mounted again");
        }
        Run("mount", "-o", "loop,errors=remount-ro", _image, Path);
        _mounted = true;
    }

    /// <summary>Unmounts (every file on it must be closed first).</summary>
    public void Unmount()
    {
        if (_mounted)
        {
            Run("umount", Path);
            _mounted = false;
        }
    }

    /// <summary>
    /// Remounts read-only or read-write. The kernel refuses to make a file system read-only while a file on it is open
    /// for writing, so a store must be closed first; <see cref="FailExt4"/> is for a store that is running.
    /// </summary>
    public void Remount(bool readOnly) => Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Path);

    /// <summary>
    /// Makes one file read-only by bind-mounting it read-only over itself (root ignores permission bits); the directory
    /// around it stays writable. Undone on dispose.
    /// </summary>
    public void BindReadOnly(string file)
    {
        Run("mount", "--bind", file, file);
        _binds.Add(file);
        Run("mount", "-o", "remount,bind,ro", file);
    }

    /// <summary>
    /// Makes the ext4 file system read-only under whatever has it open, as the kernel does on a disk error: writes to
    /// files already open fail with EROFS from now on, reads still work.
    /// </summary>
    public void FailExt4()
    {
        var device = System.IO.Path.GetFileName(Run("findmnt", "-n", "-o", "SOURCE", Path).Trim());
        File.WriteAllText($"/sys/fs/ext4/{device}/trigger_fs_error", "1");
    }

    /// <summary>Writes a file that leaves <paramref name="leaveFree"/> bytes free (real blocks, not a sparse file); returns its path.</summary>
    public string Fill(long leaveFree)
    {
        var path = System.IO.Path.Combine(Path, "filler");
        var block = new byte[64 * 1024];
        Array.Fill(block, (byte)0x5a);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        for (var left = AvailableBytes - leaveFree; left > 0; left -= block.Length)
        {
            file.Write(block, 0, (int)Math.Min(block.Length, left));
        }
        return path;
    }

    public void Dispose()
    {
        foreach (var bind in Enumerable.Reverse(_binds))
        {
            Run("umount", "-l", bind);
        }
        _binds.Clear();
        if (_mounted)
        {
            try
            {
                Run("umount", Path);
            }
            catch (InvalidOperationException)
            {
                // A file still open on a failing test: detach now, the kernel unmounts once it is closed.
                Run("umount", "-l", Path);
            }
            _mounted = false;
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Run(string program, params string[] args)
    {
        var command = $"{program} {string.Join(' ', args)}";
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo(program, args)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{command}: {ex.Message}. The fault tests need {program} (util-linux, e2fsprogs) and root.", ex);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(CommandGuard))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{command} did not end within {CommandGuard.TotalMinutes} minutes");
            }
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{command} failed (exit {process.ExitCode}): {stderr.Result.Trim()}. The fault tests mount file systems (tmpfs, an ext4 image on a loop device): run them as root, as CI does.");
            }
            return stdout.Result;
        }
    }
}
