namespace Mlsae.Data;

/// <summary>What reading a source came across: counted as documents stream past, so a summary
/// printed at the end says how much was read and how much was bad.</summary>
public sealed class DataReport
{
    /// <summary>Files opened.</summary>
    public int Files { get; internal set; }
    /// <summary>Documents yielded.</summary>
    public long Documents { get; internal set; }
    /// <summary>Records skipped as malformed (only with <see cref="DocumentOptions.SkipBadLines"/>).</summary>
    public long SkippedLines { get; internal set; }
    /// <summary>Records whose invalid UTF-8 was replaced by U+FFFD (only with <see cref="DocumentOptions.SkipBadLines"/>).</summary>
    public long ReplacedLines { get; internal set; }

    /// <summary>One line for the end of a command's output.</summary>
    public string Summary() =>
        $"{Documents} documents from {Files} file{(Files == 1 ? "" : "s")}"
        + (SkippedLines > 0 ? $", {SkippedLines} malformed record{(SkippedLines == 1 ? "" : "s")} skipped" : "")
        + (ReplacedLines > 0 ? $", {ReplacedLines} record{(ReplacedLines == 1 ? "" : "s")} with invalid UTF-8 replaced" : "");
}
