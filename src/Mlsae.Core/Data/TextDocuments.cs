namespace Mlsae.Data;

/// <summary>
/// Streams documents from local text sources: <c>.txt</c> (one document per file), JSONL with a
/// text field, <c>.jsonl.zst</c> (streamed zstd, as the Pile's shards), Parquet (a text column),
/// and folders or globs of these (files in ordinal order), from any <see cref="DocumentCursor"/>.
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
            var found = FolderFiles.Find(source, IsSupported);
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

    /// <summary>Streams the documents' texts of <paramref name="source"/> in order.</summary>
    public static IEnumerable<string> Read(string source, DocumentOptions? options = null, DataReport? report = null) =>
        Read(DataFiles.OfLocal(Files(source)), options, report, default).Select(d => d.Text);

    /// <summary>Streams the documents of <paramref name="files"/> in order, from <paramref name="start"/>.</summary>
    public static IEnumerable<Document> Read(DataFiles files, DocumentOptions? options, DataReport? report, DocumentCursor start)
    {
        options ??= new DocumentOptions();
        if (start.File > files.Names.Count)
            throw new MlsaeException($"--data: the resume position names file {start.File}, but the source has {files.Names.Count} files (it changed since the run started?)");
        for (int i = start.File; i < files.Names.Count; i++)
        {
            var name = files.Names[i];
            if (i == start.File && start.FileName is string expected && expected != name)
                throw new MlsaeException($"--data: file {i} of the source is now '{name}', but the run read '{expected}' there (the source changed since the run started?)");
            var cursor = i == start.File ? start with { FileName = name } : new DocumentCursor { File = i, FileName = name };
            var path = files.Local(i);
            if (report is not null) report.Files++;
            foreach (var doc in ReadFile(path, options, report, cursor))
            {
                if (report is not null) report.Documents++;
                yield return doc;
            }
        }
    }

    static IEnumerable<Document> ReadFile(string file, DocumentOptions options, DataReport? report, DocumentCursor cursor)
    {
        if (file.EndsWith(".txt", StringComparison.Ordinal))
            return cursor.Offset > 0 ? [] : [new Document(PlainText(file, options, report), cursor)];
        if (file.EndsWith(".parquet", StringComparison.Ordinal)) return ParquetDocuments.Read(file, options, report, cursor);
        if (file.EndsWith(".jsonl", StringComparison.Ordinal) || file.EndsWith(".jsonl.zst", StringComparison.Ordinal))
            return JsonlDocuments.Read(file, options, report, cursor);
        throw new MlsaeException($"{file}: unsupported data file (expected {string.Join(", ", Extensions)})");
    }

    static string PlainText(string file, DocumentOptions options, DataReport? report)
    {
        if (new FileInfo(file).Length > options.MaxDocumentBytes) throw options.TooLarge(file);   // a .txt file is one document
        var bytes = File.ReadAllBytes(file);
        int bad = Utf8Text.FirstInvalid(bytes);
        string where = bad < 0 ? file : $"{file}:{1 + bytes.AsSpan(0, bad).Count((byte)'\n')}";
        return Utf8Text.Decode(bytes, where, options, report);
    }
}
