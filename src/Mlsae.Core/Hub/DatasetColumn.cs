namespace Mlsae.Hub;

/// <summary>
/// One column of a hub dataset's table, typed as <c>datasets</c> infers it from Python values:
/// <c>int64</c> for ints, <c>float64</c> for floats, <c>string</c> for text, and a list of one of
/// those (<c>sequence: float64</c> in the card) for a Python list. Exactly one of the value arrays is set.
/// </summary>
/// <param name="Name">The column (feature) name.</param>
/// <param name="Dtype">The <c>datasets</c> <c>Value</c> dtype of the column or of its list's elements: <c>int64</c>, <c>float64</c> or <c>string</c>.</param>
/// <param name="Rows">Rows.</param>
/// <param name="Longs">int64 values, one per row (or, for a list, all elements row after row).</param>
/// <param name="Doubles">float64 values, likewise.</param>
/// <param name="Strings">string values, likewise.</param>
/// <param name="ListLengths">For a list column, each row's element count; null for a scalar column.</param>
public sealed record DatasetColumn(string Name, string Dtype, int Rows, long[]? Longs = null, double[]? Doubles = null, string[]? Strings = null, int[]? ListLengths = null)
{
    /// <summary>Whether each row holds a list.</summary>
    public bool IsList => ListLengths is not null;

    /// <summary>An int64 column.</summary>
    public static DatasetColumn Of(string name, long[] values) => new(name, "int64", values.Length, Longs: values);
    /// <summary>A float64 column.</summary>
    public static DatasetColumn Of(string name, double[] values) => new(name, "float64", values.Length, Doubles: values);
    /// <summary>A string column.</summary>
    public static DatasetColumn Of(string name, string[] values) => new(name, "string", values.Length, Strings: values);
    /// <summary>A list&lt;float64&gt; column from one list per row.</summary>
    public static DatasetColumn Of(string name, IReadOnlyList<double[]> rows) =>
        new(name, "float64", rows.Count, Doubles: rows.SelectMany(r => r).ToArray(), ListLengths: rows.Select(r => r.Length).ToArray());

    /// <summary>Element <paramref name="i"/> (of the flattened values) as a double; an int64 column converts.</summary>
    public double Double(int i) => Doubles is not null ? Doubles[i] : Longs is not null ? Longs[i] : throw new MlsaeException($"column \"{Name}\" holds {Dtype}, not numbers");

    /// <summary>Each row's list, as doubles.</summary>
    public double[][] DoubleLists()
    {
        if (ListLengths is null) throw new MlsaeException($"column \"{Name}\" holds one {Dtype} per row, not a list");
        var lists = new double[Rows][];
        int at = 0;
        for (int r = 0; r < Rows; r++)
        {
            lists[r] = new double[ListLengths[r]];
            for (int j = 0; j < lists[r].Length; j++) lists[r][j] = Double(at++);
        }
        return lists;
    }

    /// <summary>
    /// Bytes of the column as an Arrow array without nulls, which is what <c>datasets</c> reports as
    /// <c>num_bytes</c>: 8 per number, and for strings and lists 4-byte offsets (rows + 1) plus the
    /// UTF-8 bytes or elements. Counted as one record batch; <c>datasets</c> writes batches of 1000
    /// rows, each with its own offsets, so its figure can be a few bytes per batch larger.
    /// </summary>
    public long ArrowBytes()
    {
        long values = Strings is not null ? Strings.Sum(s => (long)System.Text.Encoding.UTF8.GetByteCount(s)) : 8L * (Longs?.Length ?? Doubles!.Length);
        bool offsets = Strings is not null || IsList;
        return values + (offsets ? 4L * (Rows + 1) : 0) + (Strings is not null && IsList ? 4L * (Strings.Length + 1) : 0);
    }
}
