using System.Globalization;

namespace Mlsae.IO;

/// <summary>Fields of the CSV tables the analyses write (RFC 4180 quoting; numbers invariant).</summary>
public static class CsvText
{
    /// <summary>A text field, quoted (inner quotes doubled) when it holds a comma, a quote or a line break.</summary>
    public static string Field(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    /// <summary>A double in round-trip form (<c>NaN</c>, <c>Infinity</c> as .NET writes them, which pandas reads back).</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A float in its own round-trip form (not widened to double's digits).</summary>
    public static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>An integer.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
