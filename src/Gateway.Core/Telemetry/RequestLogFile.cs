using System.Globalization;
using Gateway.Configuration;

namespace Gateway.Telemetry;

/// <summary>
/// The request log's file: lines appended through a buffer, and rotated by size. When a line would take the file past
/// <see cref="RequestLogOptions.MaxFileBytes"/>, <c>{path}.{MaxFiles}</c> is deleted, every <c>{path}.{n}</c> becomes
/// <c>{path}.{n+1}</c>, the file becomes <c>{path}.1</c> and a new one is begun. A failure to write, flush or rotate is
/// thrown to the <see cref="RequestLogWriter"/>, which counts and reports it; the next write opens the file again.
/// </summary>
internal sealed class RequestLogFile : IDisposable
{
    private const int BufferBytes = 64 * 1024;

    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private FileStream? _stream;
    private long _length;

    private RequestLogFile(string path, long maxBytes, int maxFiles)
    {
        _path = path;
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
    }

    /// <summary>
    /// Lines written since the last successful <see cref="Flush"/>: those lost if the file fails now (besides the line
    /// whose <see cref="Write"/> failed).
    /// </summary>
    public int Unflushed { get; private set; }

    /// <summary>
    /// Opens the file of <paramref name="options"/> for appending, creating its folder when missing. Throws
    /// <see cref="GatewayConfigurationException"/> naming <paramref name="key"/> (<c>Gateway:RequestLog:Path</c>) when
    /// the folder cannot be created or the file cannot be opened, so an unwritable log stops the start.
    /// </summary>
    public static RequestLogFile Open(RequestLogOptions options, string key)
    {
        var file = new RequestLogFile(Path.GetFullPath(options.Path!), options.MaxFileBytes, options.MaxFiles);
        try
        {
            file.EnsureOpen();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new GatewayConfigurationException([$"{key}: cannot write the request log '{file._path}': {e.Message}"]);
        }

        return file;
    }

    /// <summary>The rotated file <paramref name="generation"/> (1 the newest) of <paramref name="path"/>.</summary>
    public static string Rotated(string path, int generation) => path + "." + generation.ToString(CultureInfo.InvariantCulture);

    /// <summary>Appends one whole line (its newline included), rotating first when it would not fit.</summary>
    public void Write(ReadOnlySpan<byte> line)
    {
        var stream = EnsureOpen();
        if (_length > 0 && _length + line.Length > _maxBytes)
        {
            Rotate();
            stream = EnsureOpen();
        }

        stream.Write(line);
        _length += line.Length;
        Unflushed++;
    }

    /// <summary>Puts the buffered lines in the file (the operating system's; not a sync to the disk).</summary>
    public void Flush()
    {
        if (_stream is not null && Unflushed > 0)
        {
            _stream.Flush();
        }

        Unflushed = 0;
    }

    /// <summary>Drops the open file after a failure, its buffered lines with it; the next write opens it again.</summary>
    public void Abandon()
    {
        var stream = _stream;
        _stream = null;
        Unflushed = 0;
        try
        {
            stream?.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Disposing flushes what failed a moment ago: it has been counted as lost already.
        }
    }

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose()
    {
        var stream = _stream;
        _stream = null;
        Unflushed = 0;
        stream?.Dispose();
    }

    private FileStream EnsureOpen()
    {
        if (_stream is { } open)
        {
            return open;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read, BufferBytes);
        _length = stream.Length;
        _stream = stream;
        return stream;
    }

    private void Rotate()
    {
        var stream = _stream;
        _stream = null;
        Unflushed = 0;
        stream?.Dispose();
        File.Delete(Rotated(_path, _maxFiles));
        for (var generation = _maxFiles - 1; generation >= 1; generation--)
        {
            var older = Rotated(_path, generation);
            if (File.Exists(older))
            {
                File.Move(older, Rotated(_path, generation + 1));
            }
        }

        File.Move(_path, Rotated(_path, 1));
        _length = 0;
    }
}
