using Parquet;
using Parquet.Schema;

namespace Mlsae.Data;

/// <summary>Documents from a Parquet file's text column (the layout of HF hub datasets converted
/// to Parquet). Row groups stream one at a time; the file's footer and every row group are read
/// before the first document is used, so a corrupt file contributes nothing. Text may be a string
/// column or a binary one (whose UTF-8 is checked as in JSONL).</summary>
static class ParquetDocuments
{
    /// <summary>The documents of <paramref name="file"/> from row <paramref name="start"/>.Offset on.</summary>
    public static IEnumerable<Document> Read(string file, DocumentOptions options, DataReport? report, DocumentCursor start)
    {
        var groupRows = Open(file, options.TextField, (reader, field) =>
            Enumerable.Range(0, reader.RowGroupCount).Select(g => (long)ReadGroup(reader, field, g, file).Length).ToArray());
        long row = 0;
        for (int g = 0; g < groupRows.Length; g++)
        {
            if (row + groupRows[g] <= start.Offset) { row += groupRows[g]; continue; }   // resuming past this group
            var values = Open(file, options.TextField, (reader, field) => ReadGroup(reader, field, g, file));
            foreach (var value in values)
            {
                row++;
                if (row <= start.Offset) continue;
                string where = $"{file}: row {row}";
                if (value is null)
                {
                    if (!options.SkipBadLines) throw new MlsaeException($"{where}: \"{options.TextField}\" is null (use --skip-bad-lines to skip such rows)");
                    if (report is not null) report.SkippedLines++;
                    continue;
                }
                // A string column is decoded by Parquet.Net (writers such as Arrow only store valid
                // UTF-8 there); a binary column is checked here like any other record.
                if ((value is string str ? str.Length : ((byte[])value).Length) > options.MaxDocumentBytes) throw options.TooLarge(where);
                var text = value as string ?? Utf8Text.Decode((byte[])value, where, options, report);
                yield return new Document(text, start with { Offset = row - 1, Line = 0 });
            }
        }
    }

    static T Open<T>(string file, string column, Func<ParquetReader, DataField, T> use)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
            try
            {
                var field = reader.Schema.GetDataFields().FirstOrDefault(f => f.Name == column)
                    ?? throw new MlsaeException($"{file}: no column \"{column}\" (columns: {string.Join(", ", reader.Schema.GetDataFields().Select(f => f.Name))}; set --text-field)");
                if (field.ClrType != typeof(string) && field.ClrType != typeof(byte[]) && field.ClrType != typeof(ReadOnlyMemory<char>) && field.ClrType != typeof(ReadOnlyMemory<byte>))
                    throw new MlsaeException($"{file}: column \"{column}\" holds {field.ClrType.Name}, not text");
                return use(reader, field);
            }
            finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }
        catch (Exception e) when (e is not MlsaeException and (IOException or InvalidDataException or ParquetException
            or InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException or OverflowException))
        {
            throw MlsaeException.From($"{file}: corrupt Parquet file", e);
        }
    }

    /// <summary>One row group's values: strings as decoded, or raw bytes of a binary column.</summary>
    static object?[] ReadGroup(ParquetReader reader, DataField field, int group, string file)
    {
        using var rg = reader.OpenRowGroupReader(group);
        if (field.ClrType == typeof(byte[]) || field.ClrType == typeof(ReadOnlyMemory<byte>))
        {
            var bytes = new byte[]?[rg.RowCount];
            rg.ReadAsync(field, bytes.AsMemory()!, null).GetAwaiter().GetResult();
            return bytes;
        }
        var strings = new string?[rg.RowCount];
        rg.ReadAsync(field, strings.AsMemory()!, null).GetAwaiter().GetResult();
        return strings;
    }
}
