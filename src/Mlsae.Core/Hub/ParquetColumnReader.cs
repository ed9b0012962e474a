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
        bool list = field.MaxRepetitionLevel == 1;
        long entries = list ? group.GetMetadata(field)?.MetaData?.NumValues ?? throw new MlsaeException($"{file}: column \"{name}\" has no chunk metadata") : group.RowCount;
        var levels = list ? new int[entries] : null;
        Memory<int>? rep = levels is null ? null : levels.AsMemory();
        var type = Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType;
        long[]? longs = null;
        double[]? doubles = null;
        string[]? strings = null;
        if (type == typeof(long)) longs = NonNull(Numbers<long>(group, field, entries, rep), name, file);
        else if (type == typeof(int)) longs = NonNull(Numbers<int>(group, field, entries, rep), name, file).Select(v => (long)v).ToArray();
        else if (type == typeof(double)) doubles = NonNull(Numbers<double>(group, field, entries, rep), name, file);
        else if (type == typeof(float)) doubles = NonNull(Numbers<float>(group, field, entries, rep), name, file).Select(v => (double)v).ToArray();
        else if (type == typeof(string))
        {
            var values = new string?[entries];
            group.ReadAsync(field, values.AsMemory(), rep).AsTask().GetAwaiter().GetResult();
            strings = NonNull(values, name, file);
        }
        else return null;
        string dtype = longs is not null ? "int64" : doubles is not null ? "float64" : "string";
        return new DatasetColumn(name, dtype, (int)group.RowCount, longs, doubles, strings, levels is null ? null : Lengths(levels, (int)group.RowCount, name, file));
    }

    static T?[] Numbers<T>(ParquetRowGroupReader group, DataField field, long entries, Memory<int>? rep) where T : struct
    {
        var values = new T?[entries];
        group.ReadAsync<T>(field, values.AsMemory(), rep).AsTask().GetAwaiter().GetResult();
        return values;
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
