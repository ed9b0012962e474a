using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;

namespace Mlsae.Hub;

/// <summary>
/// The Parquet shard that <c>datasets</c>' <c>push_to_hub</c> writes (<see cref="TrainFile"/>), as Arrow
/// lays a table out: every column optional, lists as the 3-level <c>LIST</c> group (<c>list</c> /
/// <c>element</c>), the features in the <c>huggingface</c> key of the file's metadata. Reading takes
/// any such file (one row group or many, int or float numbers, nulls refused) column by column.
/// </summary>
public static class DatasetParquet
{
    /// <summary>Where <c>push_to_hub</c> puts a single-shard train split.</summary>
    public const string TrainFile = "data/train-00000-of-00001.parquet";

    /// <summary>The file-metadata key under which <c>datasets</c> stores its features.</summary>
    public const string FeaturesKey = "huggingface";

    /// <summary>Writes <paramref name="columns"/> (same row count) to <paramref name="path"/> atomically, one row
    /// group, with the <c>huggingface</c> features and <paramref name="extra"/> in the file's metadata.</summary>
    public static void Write(string path, IReadOnlyList<DatasetColumn> columns, IReadOnlyDictionary<string, string>? extra = null)
    {
        if (columns.Select(c => c.Rows).Distinct().Count() > 1) throw new ArgumentException("columns differ in row count");
        var fields = columns.Select(Field).ToArray();
        IO.AtomicFile.Write(path, stream =>
        {
            var writer = ParquetWriter.CreateAsync(new ParquetSchema(fields), stream).GetAwaiter().GetResult();
            try
            {
                var meta = new Dictionary<string, string>(extra ?? new Dictionary<string, string>()) { [FeaturesKey] = FeaturesJson(columns) };
                writer.CustomMetadata = meta;
                using var group = writer.CreateRowGroup();
                for (int c = 0; c < columns.Count; c++) WriteColumn(group, fields[c], columns[c]);
            }
            finally { writer.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        });
    }

    static Field Field(DatasetColumn column)
    {
        DataField element = column.Dtype switch
        {
            "int64" => new DataField<long?>(column.IsList ? ListField.ElementName : column.Name),
            "float64" => new DataField<double?>(column.IsList ? ListField.ElementName : column.Name),
            "string" => new DataField<string>(column.IsList ? ListField.ElementName : column.Name),
            _ => throw new ArgumentException($"dtype {column.Dtype}"),
        };
        return column.IsList ? new ListField(column.Name, element) : element;
    }

    static void WriteColumn(ParquetRowGroupWriter group, Field field, DatasetColumn column)
    {
        var data = field as DataField ?? (DataField)((ListField)field).Item;
        // A list's elements are written flat with repetition levels: 0 opens a row, 1 continues it.
        ReadOnlyMemory<int>? levels = column.ListLengths is int[] lengths
            ? lengths.SelectMany(n => Enumerable.Range(0, n).Select(j => j == 0 ? 0 : 1)).ToArray().AsMemory()
            : (ReadOnlyMemory<int>?)null;   // an empty buffer is not "no levels"
        if (column.ListLengths is int[] check && check.Any(n => n == 0)) throw new ArgumentException($"column {column.Name}: an empty list");
        if (column.Longs is long[] longs) group.WriteAsync<long>(data, longs.Select(v => (long?)v).ToArray().AsMemory(), levels).GetAwaiter().GetResult();
        else if (column.Doubles is double[] doubles) group.WriteAsync<double>(data, doubles.Select(v => (double?)v).ToArray().AsMemory(), levels).GetAwaiter().GetResult();
        else group.WriteAsync(data, column.Strings!, levels).GetAwaiter().GetResult();
    }

    /// <summary>The features as <c>datasets</c> serializes them into the file: <c>Value</c>, or <c>Sequence</c> of a <c>Value</c>.</summary>
    static string FeaturesJson(IReadOnlyList<DatasetColumn> columns)
    {
        var features = new JsonObject();
        foreach (var c in columns)
        {
            var value = new JsonObject { ["dtype"] = c.Dtype, ["_type"] = "Value" };
            features[c.Name] = c.IsList ? new JsonObject { ["feature"] = value, ["_type"] = "Sequence" } : value;
        }
        return new JsonObject { ["info"] = new JsonObject { ["features"] = features } }.ToJsonString();
    }

    /// <summary>The columns of <paramref name="files"/> (shards of one split, read in order and joined) and the
    /// first file's key-value metadata. Any reading failure is one error naming the file.</summary>
    public static (Dictionary<string, DatasetColumn> Columns, IReadOnlyDictionary<string, string> Metadata) Read(IReadOnlyList<string> files)
    {
        Dictionary<string, DatasetColumn>? all = null;
        IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
        foreach (var file in files)
        {
            var (columns, meta) = ReadFile(file);
            if (all is null) { all = columns; metadata = meta; continue; }
            if (!all.Keys.Order().SequenceEqual(columns.Keys.Order()))
                throw new MlsaeException($"{file}: columns ({string.Join(", ", columns.Keys)}) differ from {files[0]}'s");
            foreach (var (name, column) in columns) all[name] = Join(all[name], column, file);
        }
        return (all ?? throw new ArgumentException("no files"), metadata);
    }

    /// <summary>The JSON object of strings stored under <paramref name="key"/> of a file's metadata, or null when the key is absent.</summary>
    public static Dictionary<string, string>? StringMap(IReadOnlyDictionary<string, string> metadata, string key, string file)
    {
        if (!metadata.TryGetValue(key, out var json)) return null;
        try { return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? throw new System.Text.Json.JsonException("null"); }
        catch (System.Text.Json.JsonException e) { throw MlsaeException.From($"{file}: Parquet metadata \"{key}\" is not a JSON object of strings", e); }
    }

    static DatasetColumn Join(DatasetColumn a, DatasetColumn b, string file)
    {
        if (a.Dtype != b.Dtype || a.IsList != b.IsList) throw new MlsaeException($"{file}: column \"{a.Name}\" holds {b.Dtype} here, {a.Dtype} in the first shard");
        return a with
        {
            Rows = a.Rows + b.Rows,
            Longs = a.Longs is null ? null : [.. a.Longs, .. b.Longs!],
            Doubles = a.Doubles is null ? null : [.. a.Doubles, .. b.Doubles!],
            Strings = a.Strings is null ? null : [.. a.Strings, .. b.Strings!],
            ListLengths = a.ListLengths is null ? null : [.. a.ListLengths, .. b.ListLengths!],
        };
    }

    static (Dictionary<string, DatasetColumn>, IReadOnlyDictionary<string, string>) ReadFile(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
            try
            {
                var columns = new Dictionary<string, DatasetColumn>();
                foreach (var field in reader.Schema.GetDataFields())
                {
                    if (field.MaxRepetitionLevel > 1) continue;   // nested lists: no column of ours has them
                    var name = field.Path.ToList()[0];
                    for (int g = 0; g < reader.RowGroupCount; g++)
                    {
                        using var group = reader.OpenRowGroupReader(g);
                        var part = ParquetColumnReader.Read(group, field, name, file);
                        if (part is null) { columns.Remove(name); break; }   // a type no dataset of ours uses
                        columns[name] = columns.TryGetValue(name, out var before) ? Join(before, part, file) : part;
                    }
                }
                return (columns, new Dictionary<string, string>(reader.CustomMetadata ?? new Dictionary<string, string>()));
            }
            finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }
        catch (Exception e) when (e is not MlsaeException and (IOException or InvalidDataException or ParquetException
            or InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException or OverflowException or InvalidCastException))
        {
            throw MlsaeException.From($"{file}: corrupt Parquet file", e);
        }
    }
}
