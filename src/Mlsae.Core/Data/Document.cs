namespace Mlsae.Data;

/// <summary>One document of a source and where it starts.</summary>
/// <param name="Text">The document text.</param>
/// <param name="At">Its start, to reopen the source there.</param>
public readonly record struct Document(string Text, DocumentCursor At);
