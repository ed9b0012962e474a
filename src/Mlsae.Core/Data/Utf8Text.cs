using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Mlsae.Data;

/// <summary>UTF-8 decoding for data records: strict by default, or lossy the way Python's
/// <c>bytes.decode(errors='replace')</c> is (one U+FFFD per maximal invalid subsequence, which is
/// also .NET's replacement behaviour).</summary>
static class Utf8Text
{
    static readonly UTF8Encoding Lossy = new(false, throwOnInvalidBytes: false);

    /// <summary>Decodes <paramref name="bytes"/>; invalid UTF-8 is an error naming <paramref name="where"/>
    /// unless <paramref name="options"/> allows replacing it.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, string where, DocumentOptions options, DataReport? report)
    {
        if (!Utf8.IsValid(bytes))
        {
            if (!options.SkipBadLines) throw new MlsaeException($"{where}: invalid UTF-8 (use --skip-bad-lines to replace it)");
            if (report is not null) report.ReplacedLines++;
        }
        return Lossy.GetString(bytes);
    }

    /// <summary>The byte offset of the first invalid sequence, or -1 when all of it is valid.</summary>
    public static int FirstInvalid(ReadOnlySpan<byte> bytes)
    {
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(1, bytes.Length));
        try
        {
            var status = Utf8.ToUtf16(bytes, chars, out int read, out _, replaceInvalidSequences: false);
            return status == OperationStatus.Done ? -1 : read;
        }
        finally { ArrayPool<char>.Shared.Return(chars); }
    }
}
