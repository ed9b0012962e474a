using Mlsae.Interop;
using Xunit;

namespace Mlsae.Tests.Interop;

/// <summary>The tools' hookpoint names against this tool's layer l = block l's output.</summary>
public class HookpointNamesTests
{
    [Theory]
    [InlineData(ExternalSaeFormat.Sparsify, "layers.0", 0)]
    [InlineData(ExternalSaeFormat.Sparsify, "layers.5", 5)]
    [InlineData(ExternalSaeFormat.SaeLens, "blocks.5.hook_resid_post", 5)]
    [InlineData(ExternalSaeFormat.SaeLens, "blocks.3.hook_resid_pre", 2)]
    [InlineData(ExternalSaeFormat.SaeLens, "gpt_neox.layers.4", 4)] // SAELens's HF proxy names modules
    public void BlockOutputsMapToLayers(ExternalSaeFormat format, string name, int layer)
    {
        Assert.True(HookpointNames.TryLayer(format, name, out int got, out _));
        Assert.Equal(layer, got);
    }

    [Theory]
    [InlineData(ExternalSaeFormat.Sparsify, "layers.2.mlp", "the output of block 2's mlp sub-module")]
    [InlineData(ExternalSaeFormat.Sparsify, "layers.2.attention", "the output of block 2's attention sub-module")]
    [InlineData(ExternalSaeFormat.Sparsify, "embed_in", "the embedding output")]
    [InlineData(ExternalSaeFormat.Sparsify, "layer_3", "a pre-July-2024 sparsify folder name, whose layer changed between its builds")]
    [InlineData(ExternalSaeFormat.Sparsify, "layers.٣", "not a residual-stream hookpoint")]   // a non-ASCII digit
    [InlineData(ExternalSaeFormat.Sparsify, "layers.3\n", "not a residual-stream hookpoint")]
    [InlineData(ExternalSaeFormat.Sparsify, "layers.03", "not a residual-stream hookpoint")]   // no module is named so
    [InlineData(ExternalSaeFormat.Sparsify, "blocks.3.hook_resid_post", "not a residual-stream hookpoint this tool knows (expected layers.{l})")]
    [InlineData(ExternalSaeFormat.SaeLens, "blocks.0.hook_resid_pre", "the embedding output")]
    [InlineData(ExternalSaeFormat.SaeLens, "hook_embed", "the embedding output")]
    [InlineData(ExternalSaeFormat.SaeLens, "blocks.1.hook_resid_mid", "mid-block stream")]
    [InlineData(ExternalSaeFormat.SaeLens, "blocks.1.hook_mlp_out", "block 1's hook_mlp_out, not the residual stream")]
    [InlineData(ExternalSaeFormat.SaeLens, "blocks.1.attn.hook_z", "block 1's attn.hook_z")]
    [InlineData(ExternalSaeFormat.SaeLens, "ln_final.hook_normalized", "not a residual-stream hookpoint")]
    [InlineData(ExternalSaeFormat.SaeLens, "layers.3", "expected blocks.{l}.hook_resid_post or blocks.{l}.hook_resid_pre")]
    public void OtherHookpointsAreNoLayerAndSayWhy(ExternalSaeFormat format, string name, string why)
    {
        Assert.False(HookpointNames.TryLayer(format, name, out _, out string reason));
        Assert.Contains(why, reason);
        var e = Assert.Throws<MlsaeException>(() => HookpointNames.Layer(format, name, "sae"));
        Assert.StartsWith("sae: hookpoint '", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void NamesOfALayerMapBack()
    {
        for (int l = 0; l < 6; l++)
            foreach (var format in new[] { ExternalSaeFormat.Sparsify, ExternalSaeFormat.SaeLens })
                Assert.Equal(l, HookpointNames.Layer(format, HookpointNames.For(format, l), "x"));
        Assert.Equal("layers.3", HookpointNames.Sparsify(3));
        Assert.Equal("blocks.3.hook_resid_post", HookpointNames.SaeLens(3));
    }
}
