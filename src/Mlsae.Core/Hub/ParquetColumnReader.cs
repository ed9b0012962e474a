using Parquet;
using Parquet.Schema;

namespace Mlsae.Hub;

/// <summary>
/// One Parquet column chunk as a <see cref="DatasetColumn"/>: int32/int64 as int64, float/double as
/// float64, text as string, each either one value per row or a list per row (repetition level 1).
/// A null value, or a null or empty list, is an error: the tables <c>push_to_hub</c> writes from
/// the reference's dists and examples have none.
/// </summary>
static class ParquetColumnReader
{
    /// <summary>The column of <paramref name="field"/> in <paramref name="group"/>, or null for a type outside those.</summary>
    public static DatasetColumn? Read(ParquetRowGroupReader group, DataField field, string name, string file)
    {
        var type = Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType;
        int rows = (int)group.RowCount;
        if (field.MaxRepetitionLevel == 1)
        {
            if (type == typeof(long)) { var (v, n) = List<long>(group, field, rows, name, file); return new(name, "int64", rows, Longs: v, ListLengths: n); }
            if (type == typeof(int)) { var (v, n) = List<int>(group, field, rows, name, file); return new(name, "int64", rows, Longs: [.. v.Select(x => (long)x)], ListLengths: n); }
            if (type == typeof(double)) { var (v, n) = List<double>(group, field, rows, name, file); return new(name, "float64", rows, Doubles: v, ListLengths: n); }
            if (type == typeof(float)) { var (v, n) = List<float>(group, field, rows, name, file); return new(name, "float64", rows, Doubles: [.. v.Select(x => (double)x)], ListLengths: n); }
            return null;
        }
        if (type == typeof(long)) return DatasetColumn.Of(name, NonNull(Numbers<long>(group, field, rows), name, file));
        if (type == typeof(int)) return DatasetColumn.Of(name, NonNull(Numbers<int>(group, field, rows), name, file).Select(v => (long)v).ToArray());
        if (type == typeof(double)) return DatasetColumn.Of(name, NonNull(Numbers<double>(group, field, rows), name, file));
        if (type == typeof(float)) return DatasetColumn.Of(name, NonNull(Numbers<float>(group, field, rows), name, file).Select(v => (double)v).ToArray());
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var values = new string?[rows];
            group.ReadAsync(field, values.AsMemory(), null).AsTask().GetAwaiter().GetResult();
            return DatasetColumn.Of(name, NonNull(values, name, file));
        }
        return null;
    }

    static T?[] Numbers<T>(ParquetRowGroupReader group, DataField field, int rows) where T : struct
    {
        var values = new T?[rows];
        group.ReadAsync<T>(field, values.AsMemory(), null).AsTask().GetAwaiter().GetResult();
        return values;
    }

    /// <summary>A list column's elements and each row's length, from the raw values and levels.</summary>
    static (T[] Values, int[] Lengths) List<T>(ParquetRowGroupReader group, DataField field, int rows, string name, string file) where T : struct
    {
        long entries = group.GetMetadata(field)?.MetaData?.NumValues ?? throw new MlsaeException($"{file}: column \"{name}\" has no chunk metadata");
        var values = new T[entries];
        var definitions = new int[entries];
        var repetitions = new int[entries];
        group.ReadRawAsync<T>(field, values.AsMemory(), definitions.AsMemory(), repetitions.AsMemory()).AsTask().GetAwaiter().GetResult();
        if (definitions.Any(d => d < field.MaxDefinitionLevel))
            throw new MlsaeException($"{file}: column \"{name}\" holds a null or empty list, or a null element; a dists table has none");
        return (values, Lengths(repetitions, rows, name, file));
    }

    static T[] NonNull<T>(T?[] values, string name, string file) where T : struct =>
        values.Select((v, i) => v ?? throw new MlsaeException($"{file}: column \"{name}\" holds a null (entry {i}); a dists or examples table has none")).ToArray();

    static string[] NonNull(string?[] values, string name, string file) =>
        values.Select((v, i) => v ?? throw new MlsaeException($"{file}: column \"{name}\" holds a null (entry {i}); a dists or examples table has none")).ToArray();

    /// <summary>Each row's element count from the repetition levels (0 opens a row).</summary>
    static int[] Lengths(int[] levels, int rows, string name, string file)
    {
        var lengths = new List<int>(rows);
        foreach (var level in levels)
            if (level == 0) lengths.Add(1);
            else if (lengths.Count == 0) throw new MlsaeException($"{file}: column \"{name}\" continues a list before opening one");
            else lengths[^1]++;
        if (lengths.Count != rows) throw new MlsaeException($"{file}: column \"{name}\" holds {lengths.Count} lists for {rows} rows");
        return lengths.ToArray();
    }
}
