using System.Text.RegularExpressions;

namespace Mlsae.Interop;

/// <summary>
/// The one mapping between the tools' hookpoint names and this tool's layer indices, where layer l
/// is the output of GPT-NeoX block l (HF <c>hidden_states[l + 1]</c>, before the final LayerNorm).
/// <list type="bullet">
/// <item>sparsify names a module of the HF base model (<c>gpt_neox</c>) and hooks its output:
/// <c>layers.{l}</c> is block l's output, layer l. <c>layers.{l}.attention</c> and
/// <c>layers.{l}.mlp</c> are sub-block outputs and <c>embed_in</c> the embedding, none of them a
/// layer here. Before July 2024 it named folders <c>layer_{i}</c>, whose meaning changed between
/// builds (HF <c>hidden_states[1:][i]</c>, block i's output, in May 2024; <c>hidden_states[:-1][i]</c>,
/// the stream entering block i, from June; for a while an index into the trained layers), so such
/// a name is refused: the folder must be renamed <c>layers.{l}</c> for the block output it holds.</item>
/// <item>SAELens names TransformerLens hooks: <c>blocks.{l}.hook_resid_post</c> is layer l;
/// <c>blocks.{l}.hook_resid_pre</c> is block l's input, layer l − 1 (block 0's is the embedding
/// output); <c>hook_resid_mid</c> and the rest are not block outputs. SAEs trained through its
/// HF proxy (<c>model_class_name</c> <c>AutoModelForCausalLM</c>) name HF modules:
/// <c>gpt_neox.layers.{l}</c> is layer l.</item>
/// </list>
/// The embedding output has no layer index in this tool (layers are block outputs 0..L−1), so SAEs
/// on it are refused.
/// </summary>
public static partial class HookpointNames
{
    /// <summary>The sparsify hookpoint of layer <paramref name="layer"/>.</summary>
    public static string Sparsify(int layer) => $"layers.{layer}";

    /// <summary>The SAELens (TransformerLens) hook name of layer <paramref name="layer"/>.</summary>
    public static string SaeLens(int layer) => $"blocks.{layer}.hook_resid_post";

    /// <summary>The hookpoint of layer <paramref name="layer"/> in <paramref name="format"/>'s names.</summary>
    public static string For(ExternalSaeFormat format, int layer) =>
        format == ExternalSaeFormat.SaeLens ? SaeLens(layer) : Sparsify(layer);

    /// <summary>The layer <paramref name="hookpoint"/> of <paramref name="format"/> reads; false with
    /// the reason in <paramref name="why"/> when it is not a block output.</summary>
    public static bool TryLayer(ExternalSaeFormat format, string hookpoint, out int layer, out string why)
    {
        layer = -1;
        var (index, offset, notALayer) = format == ExternalSaeFormat.SaeLens ? ParseSaeLens(hookpoint) : ParseSparsify(hookpoint);
        if (notALayer is not null) { why = notALayer; return false; }
        if (index is not int block)
        {
            why = "not a residual-stream hookpoint this tool knows (expected " +
                (format == ExternalSaeFormat.SaeLens ? "blocks.{l}.hook_resid_post or blocks.{l}.hook_resid_pre)" : "layers.{l})");
            return false;
        }
        if (block + offset < 0)
        {
            why = "the embedding output (the stream entering block 0), which has no layer index here: layer l is block l's output";
            return false;
        }
        layer = block + offset;
        why = "";
        return true;
    }

    /// <summary>The layer <paramref name="hookpoint"/> of <paramref name="format"/> reads; an error
    /// naming it and <paramref name="where"/> when it is not a block output.</summary>
    public static int Layer(ExternalSaeFormat format, string hookpoint, string where) =>
        TryLayer(format, hookpoint, out int layer, out string why) ? layer
            : throw new MlsaeException($"{where}: hookpoint '{IO.ContainedPath.Printable(hookpoint)}' is {why}");

    // (block index, offset to this tool's layer, reason it is no layer)
    static (int? Index, int Offset, string? NotALayer) ParseSparsify(string name)
    {
        if (SparsifyBlock().Match(name) is { Success: true } m) return (Index(m), 0, null);
        if (SparsifyLegacy().IsMatch(name))
            return (null, 0, "a pre-July-2024 sparsify folder name, whose layer changed between its builds (block i's output in May 2024, the stream entering block i from June); rename the folder layers.{l} after the block output it holds");
        if (SparsifySub().Match(name) is { Success: true } sub)
            return (Index(sub), 0, $"the output of block {sub.Groups[1].Value}'s {sub.Groups[2].Value} sub-module, not the residual stream");
        if (name == "embed_in") return (0, -1, null);
        return (null, 0, null);
    }

    static (int? Index, int Offset, string? NotALayer) ParseSaeLens(string name)
    {
        if (TlHook().Match(name) is { Success: true } m)
            return m.Groups[2].Value switch
            {
                "hook_resid_post" => (Index(m), 0, null),
                "hook_resid_pre" => (Index(m), -1, null),
                "hook_resid_mid" => (Index(m), 0, $"block {m.Groups[1].Value}'s mid-block stream (after attention, before the MLP), not a block output"),
                var other => (Index(m), 0, $"block {m.Groups[1].Value}'s {other}, not the residual stream"),
            };
        if (HfProxyBlock().Match(name) is { Success: true } hf) return (Index(hf), 0, null);
        if (name is "hook_embed" or "gpt_neox.embed_in") return (0, -1, null);
        return (null, 0, null);
    }

    static int? Index(Match m) => int.TryParse(m.Groups[1].Value, System.Globalization.NumberStyles.None, null, out int i) ? i : null;

    [GeneratedRegex(@"^layers\.(0|[1-9][0-9]*)\z")] private static partial Regex SparsifyBlock();
    [GeneratedRegex(@"^layer_[0-9]+\z")] private static partial Regex SparsifyLegacy();
    [GeneratedRegex(@"^layers\.(0|[1-9][0-9]*)\.(attention|mlp)\z")] private static partial Regex SparsifySub();
    [GeneratedRegex(@"^blocks\.(0|[1-9][0-9]*)\.(.+)\z")] private static partial Regex TlHook();
    [GeneratedRegex(@"^gpt_neox\.layers\.(0|[1-9][0-9]*)\z")] private static partial Regex HfProxyBlock();
}
