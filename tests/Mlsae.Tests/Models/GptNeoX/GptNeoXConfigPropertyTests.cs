using CsCheck;
using Mlsae.Models;
using Mlsae.Tests.Tokenization;
using Xunit;

namespace Mlsae.Tests.Models;

/// <summary>Property tests: however model B's config.json is damaged, reading it, and loading the model
/// from it with model B's real weights, either works or fails with one <see cref="MlsaeException"/>.
/// Bounded to about a second each.</summary>
public class GptNeoXConfigPropertyTests
{
    static readonly string Source = Fixtures.Path("gpt_neox", "modelB");

    [Fact]
    public void ByteMutationsReadOrFailWithOneMlsaeException()
    {
        var path = Path.Combine(Fixtures.TempDir(), "config.json");
        FileMutations.Bytes(File.ReadAllBytes(Path.Combine(Source, "config.json"))).SampleFixed(bytes =>
        {
            File.WriteAllBytes(path, bytes);
            FileMutations.LoadsOrFailsCleanly(() => GptNeoXConfig.Load(path), () => System.Text.Encoding.UTF8.GetString(bytes));
        }, iter: 500, seed: 7919);
    }

    [Fact]
    public void ValueMutationsLoadTheModelOrFailWithOneMlsaeException()
    {
        var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(Source, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var tree = JsonEdit.Read(Path.Combine(Source, "config.json"));
        FileMutations.Values(tree, FileMutations.Paths(tree)).SampleFixed(edit =>
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), edit.Text);
            FileMutations.LoadsOrFailsCleanly(() => GptNeoXLoader.Load(dir).Dispose(), () => edit.Edits);
        }, iter: 200, seed: 15838);
    }
}
