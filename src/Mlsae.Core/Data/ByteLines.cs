namespace Mlsae.Data;

/// <summary>
/// The lines of a byte stream, undecoded (so invalid UTF-8 is found and reported per record), each
/// with the byte offset it starts at: what a resumable position records for line-based sources.
/// </summary>
static class ByteLines
{
    /// <summary>One line without its <c>\n</c>.</summary>
    /// <param name="Bytes">The line's bytes.</param>
    /// <param name="Start">Offset of its first byte in the stream.</param>
    /// <param name="Next">Offset of the line after it.</param>
    public readonly record struct Line(byte[] Bytes, long Start, long Next);

    /// <summary>Streams the lines of <paramref name="stream"/> from byte <paramref name="offset"/> (a
    /// line start, after <paramref name="linesBefore"/> lines). A stream that cannot seek (zstd) is
    /// read up to the offset and the bytes dropped. Read failures become errors naming
    /// <paramref name="file"/> as <paramref name="what"/>; a line longer than <paramref name="maxLine"/>
    /// bytes is an error naming file:line before it is held in memory.</summary>
    public static IEnumerable<Line> Read(Stream stream, long offset, string file, string what, long linesBefore = 0, long maxLine = long.MaxValue,
        Func<string, MlsaeException>? tooLong = null)
    {
        long lineNumber = linesBefore + 1;
        void Grow(long length)
        {
            if (length > maxLine) throw tooLong?.Invoke($"{file}:{lineNumber}") ?? new MlsaeException($"{file}:{lineNumber}: a line of more than {maxLine:N0} bytes");
        }
        var buffer = new byte[1 << 16];
        int Fill()
        {
            try { return stream.Read(buffer); }
            catch (Exception e) when (e is ZstdSharp.ZstdException or IOException or InvalidDataException)
            {
                throw new MlsaeException($"{file}: {what} ({e.Message})");
            }
        }
        if (stream.CanSeek) stream.Seek(offset, SeekOrigin.Begin);
        else
            for (long left = offset; left > 0;)
            {
                int want = (int)Math.Min(buffer.Length, left);
                int got;
                try { got = stream.Read(buffer, 0, want); }
                catch (Exception e) when (e is ZstdSharp.ZstdException or IOException or InvalidDataException)
                {
                    throw new MlsaeException($"{file}: {what} ({e.Message})");
                }
                if (got == 0) throw new MlsaeException($"{file}: shorter than the resume offset {offset} (the file changed since the run started?)");
                left -= got;
            }
        var line = new MemoryStream();
        long lineStart = offset, position = offset;
        while (true)
        {
            int n = Fill();
            if (n == 0) break;
            int start = 0;
            for (int i = 0; i < n; i++)
                if (buffer[i] == (byte)'\n')
                {
                    Grow(line.Length + i - start);
                    line.Write(buffer, start, i - start);
                    long next = position + i + 1;
                    yield return new Line(line.ToArray(), lineStart, next);
                    line.SetLength(0);
                    lineStart = next;
                    start = i + 1;
                    lineNumber++;
                }
            Grow(line.Length + n - start);
            line.Write(buffer, start, n - start);
            position += n;
        }
        if (line.Length > 0) yield return new Line(line.ToArray(), lineStart, position);
    }
}
