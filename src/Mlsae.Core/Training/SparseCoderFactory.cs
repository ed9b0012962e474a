using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Coders.Crosscoder;
using Mlsae.Coders.PerLayer;
using static TorchSharp.torch;

namespace Mlsae.Training;

/// <summary>
/// The one place a run's options become a fresh sparse coder of its <c>kind</c> (<c>--kind</c>): the
/// MLSAE (one TopK SAE shared by all chosen layers), a per-layer family (one SAE per layer, each as
/// the MLSAE on that layer alone) or a crosscoder (one latent vector per token for all layers). All
/// have F = <c>expansion_factor</c> × D latents (per SAE for a family); what they cost and how many
/// codes a token gets are said here too. A checkpoint reads back through <see cref="SparseCoderRegistry"/>.
/// </summary>
public static class SparseCoderFactory
{
    /// <summary>The kind names, as <c>--kind</c> and <c>run.json</c> spell them.</summary>
    public const string Mlsae = MlsaeAutoencoder.KindName, PerLayer = PerLayerFamily.KindName, Crosscoder = AcausalCrosscoder.KindName;

    /// <summary>The kinds <c>train</c> builds.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [Mlsae, PerLayer, Crosscoder];

    /// <summary>
    /// The <c>-k</c> a kind gets when none is given, from the MLSAE's default <paramref name="mlsaeK"/>:
    /// the crosscoder's K counts a token's codes across all its <paramref name="layers"/> layers, so it
    /// gets L × that, and a token has as many active codes as under the MLSAE; the others keep it.
    /// </summary>
    public static int DefaultK(string kind, int mlsaeK, int layers) => kind == Crosscoder ? checked(layers * mlsaeK) : mlsaeK;

    /// <summary>A fresh coder of <paramref name="options"/>' kind for <paramref name="dModel"/>-dimensional
    /// vectors of the model layers <paramref name="layers"/>, seeded with its <c>seed</c>.</summary>
    public static ISparseCoder Create(TrainOptions options, int dModel, IReadOnlyList<int> layers, Device device)
    {
        var a = options.Autoencoder;
        var settings = CoderSettings.Of(options);
        return a.Kind switch
        {
            Mlsae => MlsaeAutoencoder.Create(MlsaeConfigOf(options, dModel), settings, a.Seed, device),
            PerLayer => PerLayerFamily.Create(MlsaeConfigOf(options, dModel), settings, a.Seed, layers, device),
            Crosscoder => AcausalCrosscoder.Create(new CrosscoderConfig
            {
                NInputs = dModel, NLatents = Latents(dModel, a.ExpansionFactor), ModelLayers = layers.ToArray(), K = a.K, AuxK = a.AuxK,
                DeadThreshold = a.DeadThreshold, Standardize = a.Standardize,
            }.Validate("--expansion-factor/-k/--auxk"), settings, a.Seed, device),
            _ => throw new MlsaeException($"--kind: '{a.Kind}' is not a sparse coder this version trains ({string.Join(", ", Kinds)})"),
        };
    }

    /// <summary>The MLSAE config of a run (every SAE of a per-layer family has it).</summary>
    static MlsaeConfig MlsaeConfigOf(TrainOptions options, int dModel) => new MlsaeConfig
    {
        NInputs = dModel, NLatents = Latents(dModel, options.Autoencoder.ExpansionFactor), K = options.Autoencoder.K, AuxK = options.Autoencoder.AuxK,
        DeadStepsThreshold = options.DeadStepsThreshold, DeadThreshold = options.Autoencoder.DeadThreshold, Standardize = options.Autoencoder.Standardize,
    }.Validate("--expansion-factor/-k/--auxk");

    /// <summary>F = D × the expansion factor, or an error when it does not fit a tensor dimension.</summary>
    public static int Latents(int dModel, int expansionFactor) => (long)dModel * expansionFactor is var f && f <= int.MaxValue ? (int)f
        : throw new MlsaeException($"--expansion-factor {expansionFactor}: {dModel} × {expansionFactor} latents is more than a tensor dimension can hold");

    /// <summary>
    /// Refuses, before allocating, a coder the machine cannot hold: its float32 weights, gradients and
    /// Adam's two moments (8 values per encoder and decoder entry: 8·F·D for the MLSAE, 8·F·L·D for a
    /// family or a crosscoder) plus the dense encoder output of one batch (F per vector: L·B·T vectors,
    /// B·T for the crosscoder), against the memory this process may use.
    /// </summary>
    public static void CheckMemory(TrainOptions options, int dModel, int layers)
    {
        var a = options.Autoencoder;
        double f = Latents(dModel, a.ExpansionFactor);
        double weights = 8.0 * dModel * (a.Kind == Mlsae ? 1 : layers);
        double vectors = (double)options.TokensPerBatch * (a.Kind == Crosscoder ? 1 : layers);
        double bytes = 4.0 * f * (weights + vectors);
        double available = Tensors.MachineMemory.AvailableBytes();
        if (bytes > available)
            throw new MlsaeException($"--expansion-factor {a.ExpansionFactor}: training {f:N0} latents{(a.Kind == PerLayer ? $" in each of {layers} SAEs" : "")} needs about {bytes / 1e9:N1} GB "
                + $"(weights, gradients, Adam moments and one batch's encoder output) but this machine has {available / 1e9:N1} GB; lower --expansion-factor, --batch-size or --max-length");
    }

    /// <summary>The trainable parameters' count.</summary>
    public static long ParameterCount(ISparseCoder coder) => coder.Parameters.Sum(p => p.numel());

    /// <summary>Codes a token gets over its <paramref name="layers"/> layers: K for a crosscoder, K per layer otherwise.</summary>
    public static long ActiveCodesPerToken(ISparseCoder coder, int layers) => coder.CodesPerToken ? coder.K : (long)coder.K * layers;

    /// <summary>What the kind is, in a few words, for titles: "MLSAE", "Per-layer SAEs", "Crosscoder".</summary>
    public static string Title(string kind) => kind switch
    {
        PerLayer => "Per-layer SAEs",
        Crosscoder => "Crosscoder",
        _ => "MLSAE",
    };

    /// <summary>One line on the coder's size: kind, latents, parameters and active codes per token.</summary>
    public static string Describe(ISparseCoder coder, int layers) => coder switch
    {
        PerLayerFamily family => $"per-layer: {layers} SAEs of {family.LatentsPerSae:N0} latents ({coder.NLatents:N0} in all), k {coder.K} per layer",
        AcausalCrosscoder => $"crosscoder: {coder.NLatents:N0} latents over {layers} layers, k {coder.K} per token",
        _ => $"mlsae: {coder.NLatents:N0} latents shared by {layers} layers, k {coder.K} per layer",
    } + $"; {ParameterCount(coder):N0} parameters, {ActiveCodesPerToken(coder, layers):N0} active codes per token";
}
