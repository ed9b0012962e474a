using CsCheck;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Tokenization;

/// <summary>Property tests: however the fixture tokenizer.json is damaged, loading it (and, when it
/// loads, encoding and decoding with it) either works or fails with one <see cref="MlsaeException"/>.
/// Bounded to about a second each.</summary>
public class TokenizerPropertyTests
{
    static readonly byte[] Original = File.ReadAllBytes(Fixtures.Path("tokenizer", "tokenizer.json"));

    static void LoadAndUse(string path)
    {
        var tok = Tokenizer.Load(path);
        var ids = tok.Encode("Hello  wörld<|endoftext|>  123 \U0001F600");
        tok.Decode(ids, skipSpecialTokens: true);
    }

    [Fact]
    public void ByteMutationsLoadOrFailWithOneMlsaeException()
    {
        var path = Path.Combine(Fixtures.TempDir(), "tokenizer.json");
        FileMutations.Bytes(Original).SampleFixed(bytes =>
        {
            File.WriteAllBytes(path, bytes);
            FileMutations.LoadsOrFailsCleanly(() => LoadAndUse(path), () => Convert.ToBase64String(bytes));
        }, iter: 300, seed: 7919);
    }

    [Fact]
    public void ValueMutationsLoadOrFailWithOneMlsaeException()
    {
        var path = Path.Combine(Fixtures.TempDir(), "tokenizer.json");
        var tree = JsonEdit.Read(Fixtures.Path("tokenizer", "tokenizer.json"));
        FileMutations.Values(tree, FileMutations.Paths(tree)).SampleFixed(edit =>
        {
            File.WriteAllText(path, edit.Text);
            FileMutations.LoadsOrFailsCleanly(() => LoadAndUse(path), () => edit.Edits);
        }, iter: 120, seed: 15838);
    }
}
