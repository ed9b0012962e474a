namespace Mlsae.Tokenization;

/// <summary>An entry of tokenizer.json's <c>added_tokens</c>.</summary>
/// <param name="Id">Token id.</param>
/// <param name="Content">The literal text.</param>
/// <param name="Special">Special tokens (e.g. <c>&lt;|endoftext|&gt;</c>) can be skipped when decoding.</param>
/// <param name="Normalized">Matched on the normalized text (true) or on the raw input (false).</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool Normalized);
