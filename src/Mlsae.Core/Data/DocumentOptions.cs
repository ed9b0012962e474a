namespace Mlsae.Data;

/// <summary>How documents are read from text sources.</summary>
/// <param name="TextField">The JSON field or Parquet column holding the text.</param>
/// <param name="SkipBadLines">Skip malformed records and replace invalid UTF-8 (as Python's
/// <c>errors='replace'</c>) instead of failing; both are counted in a <see cref="DataReport"/>.</param>
public sealed record DocumentOptions(string TextField = "text", bool SkipBadLines = false);
