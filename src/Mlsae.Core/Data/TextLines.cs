
namespace Mlsae.Data;

/// <summary>
/// The lines of a text file (such as <c>mlsae tokenize</c>'s JSONL input), decoded under the rule
/// the data sources follow (<see cref="DocumentOptions.SkipBadLines"/>): invalid UTF-8 in a line is
/// an error naming <c>file:line</c>, or, when skipping bad lines, replaced as Python's
/// <c>errors='replace'</c> does and counted in <see cref="DataReport.ReplacedLines"/>.
/// </summary>
public static class TextLines
{
    /// <summary>Streams the lines of <paramref name="path"/> (split at <c>\n</c>; a trailing <c>\r</c>
    /// is kept, which JSON parsing ignores) with their 1-based numbers.</summary>
    public static IEnumerable<(long Number, string Text)> Read(string path, DocumentOptions options, DataReport? report = null)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        return ReadExisting(path, options, report);
    }

    static IEnumerable<(long Number, string Text)> ReadExisting(string path, DocumentOptions options, DataReport? report)
    {
        using var stream = File.OpenRead(path);
        long number = 0;
        // The data sources' own line splitter and decoder, so tokenize and data cannot drift apart.
        foreach (var line in ByteLines.Read(stream, 0, path, "read error", 0, options.MaxDocumentBytes, options.TooLarge))
        {
            number++;
            yield return (number, Utf8Text.Decode(line.Bytes, $"{path}:{number}", options, report));
        }
    }
}
