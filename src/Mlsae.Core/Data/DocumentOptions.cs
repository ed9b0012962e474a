namespace Mlsae.Data;

/// <summary>How documents are read from text sources.</summary>
/// <param name="TextField">The JSON field or Parquet column holding the text.</param>
/// <param name="SkipBadLines">Skip malformed records and replace invalid UTF-8 (as Python's
/// <c>errors='replace'</c>) instead of failing; both are counted in a <see cref="DataReport"/>.</param>
/// <param name="MaxDocumentBytes">The largest record (a JSONL line, a Parquet value, a whole
/// <c>.txt</c> file) read; a larger one is an error naming file:line, so a small compressed file
/// cannot expand into gigabytes of memory.</param>
public sealed record DocumentOptions(string TextField = "text", bool SkipBadLines = false, long MaxDocumentBytes = DocumentOptions.DefaultMaxDocumentBytes)
{
    /// <summary>64 MiB: far above any real document, far below the machine's memory.</summary>
    public const long DefaultMaxDocumentBytes = 64L << 20;

    /// <summary>The error for a record over the limit at <paramref name="where"/>.</summary>
    public MlsaeException TooLarge(string where) =>
        new($"{where}: a record of more than {MaxDocumentBytes:N0} bytes (raise --max-document-bytes to read it)");
}
