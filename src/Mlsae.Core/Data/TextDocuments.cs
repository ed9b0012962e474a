namespace Mlsae.Data;

/// <summary>
/// Streams documents from local text sources: <c>.txt</c> (one document per file), JSONL with a
/// text field, <c>.jsonl.zst</c> (streamed zstd, as the Pile's shards), Parquet (a text column),
/// and folders or globs of these (files in ordinal order).
/// </summary>
public static class TextDocuments
{
    /// <summary>Extensions read as documents.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".txt", ".jsonl", ".jsonl.zst", ".parquet"];

    /// <summary>The files a source names: a file, a folder (recursively, supported extensions), or a glob in the last path part.</summary>
    public static List<string> Files(string source)
    {
        if (File.Exists(source)) return [source];
        if (Directory.Exists(source))
        {
            var found = Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(IsSupported).Order(StringComparer.Ordinal).ToList();
            if (found.Count == 0) throw new MlsaeException($"--data: the folder '{source}' holds no {string.Join(", ", Extensions)} files");
            return found;
        }
        var dir = Path.GetDirectoryName(source);
        var pattern = Path.GetFileName(source);
        if (pattern.IndexOfAny(['*', '?']) >= 0 && Directory.Exists(string.IsNullOrEmpty(dir) ? "." : dir))
        {
            var files = Directory.EnumerateFiles(string.IsNullOrEmpty(dir) ? "." : dir, pattern).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new MlsaeException($"--data: no files match '{source}'");
            return files;
        }
        throw new MlsaeException($"--data: '{source}' is not a file, folder or glob that exists");
    }

    /// <summary>Whether a path has an extension read as documents.</summary>
    public static bool IsSupported(string path) => Extensions.Any(e => path.EndsWith(e, StringComparison.Ordinal));

    /// <summary>Streams the documents of <paramref name="source"/> in order.</summary>
    public static IEnumerable<string> Read(string source, DocumentOptions? options = null, DataReport? report = null) =>
        Read(Files(source), options, report);

    /// <summary>Streams the documents of <paramref name="files"/> in order.</summary>
    public static IEnumerable<string> Read(IEnumerable<string> files, DocumentOptions? options = null, DataReport? report = null)
    {
        options ??= new DocumentOptions();
        foreach (var file in files)
        {
            if (report is not null) report.Files++;
            foreach (var doc in ReadFile(file, options, report))
            {
                if (report is not null) report.Documents++;
                yield return doc;
            }
        }
    }

    static IEnumerable<string> ReadFile(string file, DocumentOptions options, DataReport? report)
    {
        if (file.EndsWith(".txt", StringComparison.Ordinal)) return [PlainText(file, options, report)];
        if (file.EndsWith(".parquet", StringComparison.Ordinal)) return ParquetDocuments.Read(file, options, report);
        if (file.EndsWith(".jsonl", StringComparison.Ordinal) || file.EndsWith(".jsonl.zst", StringComparison.Ordinal))
            return JsonlDocuments.Read(file, options, report);
        throw new MlsaeException($"{file}: unsupported data file (expected {string.Join(", ", Extensions)})");
    }

    static string PlainText(string file, DocumentOptions options, DataReport? report)
    {
        var bytes = File.ReadAllBytes(file);
        int bad = Utf8Text.FirstInvalid(bytes);
        string where = bad < 0 ? file : $"{file}:{1 + bytes.AsSpan(0, bad).Count((byte)'\n')}";
        return Utf8Text.Decode(bytes, where, options, report);
    }
}
