using System.Security.Cryptography;
using Mlsae.IO;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Lens;

/// <summary>
/// A tuned lens (Belrose et al. 2023, the <c>tuned-lens</c> package's <c>TunedLens</c>): one affine
/// translator per hidden state, translator i mapping <c>h ↦ h + h·W_iᵀ + b_i</c> (added residually,
/// so a zero translator is the identity). Translator i was trained on HF <c>hidden_states[i]</c>, the
/// stream entering block i; which translator a model layer gets is <see cref="TunedLensHook"/>'s
/// business. Holds the translators on one device, and caches per translator the factorization its
/// exact inverse solves with.
/// </summary>
public sealed class TunedLens : IDisposable
{
    /// <summary>The <c>torch.save</c> of the translators' state dict, as the package writes it.</summary>
    public const string ParamsFile = "params.pt";
    /// <summary>The same tensors as safetensors, read when a folder has no <see cref="ParamsFile"/>.</summary>
    public const string SafeTensorsFile = "params.safetensors";

    readonly Tensor weights;                              // [L, D, D] float32
    readonly Tensor biases;                               // [L, D] float32
    readonly (Tensor Lu, Tensor Pivots)?[] factors;       // per translator: LU of (I + W_i), float64
    readonly Tensor?[] diagonals;                         // per translator: diag((I + W_i)⁻¹), float32

    TunedLens(TunedLensConfig config, Tensor weights, Tensor biases, TunedLensReference reference)
    {
        Config = config;
        Reference = reference;
        this.weights = weights;
        this.biases = biases;
        factors = new (Tensor, Tensor)?[config.NumHiddenLayers];
        diagonals = new Tensor?[config.NumHiddenLayers];
    }

    /// <summary>The lens's config.json.</summary>
    public TunedLensConfig Config { get; }
    /// <summary>Where the lens came from and the hash of its files, as run.json and eval.json record it.</summary>
    public TunedLensReference Reference { get; }
    /// <summary>Translators (= the model's block count L).</summary>
    public int Translators => Config.NumHiddenLayers;
    /// <summary>The device the translators live on.</summary>
    public Device Device => weights.device;

    /// <summary>
    /// Loads a lens folder: <c>config.json</c> and <c>params.pt</c> (read with the restricted
    /// unpickler), else <c>params.safetensors</c>; keys <c>{i}.weight</c> <c>[D, D]</c> and
    /// <c>{i}.bias</c> <c>[D]</c> for i in 0..L-1 (no biases when the config says <c>bias: false</c>).
    /// <paramref name="source"/> and <paramref name="revision"/> are recorded in <see cref="Reference"/>
    /// (default: the folder). Errors name the file and the tensor.
    /// </summary>
    public static TunedLens Load(string folder, Device device, string? source = null, string? revision = null)
    {
        var configPath = Path.Combine(folder, TunedLensConfig.FileName);
        var config = TunedLensConfig.Read(configPath);
        var paramsPath = Path.Combine(folder, ParamsFile);
        if (!File.Exists(paramsPath)) paramsPath = Path.Combine(folder, SafeTensorsFile);
        if (!File.Exists(paramsPath)) throw new MlsaeException($"{folder}: no {ParamsFile} or {SafeTensorsFile} (a tuned lens folder holds config.json and params.pt)");
        using var scope = NewDisposeScope();
        using var file = paramsPath.EndsWith(".safetensors", StringComparison.Ordinal) ? (IWeightSource)IO.SafeTensorsFile.Open(paramsPath) : TorchCheckpoint.Open(paramsPath);
        int l = config.NumHiddenLayers, d = config.DModel;
        var expected = Enumerable.Range(0, l).SelectMany(i => config.Bias ? new[] { $"{i}.weight", $"{i}.bias" } : [$"{i}.weight"]).ToHashSet();
        // The package loads with a strict load_state_dict: a key it does not expect is an error, not ignored.
        if (file.Names.FirstOrDefault(n => !expected.Contains(n)) is { } unexpected)
            throw new MlsaeException($"{paramsPath}: unexpected tensor '{ContainedPath.Printable(unexpected)}' for a lens of {l} translators (keys are '<i>.weight' and '<i>.bias', i in 0..{l - 1})");
        Tensor Read(string name, params long[] shape)
        {
            if (!file.Names.Contains(name)) throw new MlsaeException($"{paramsPath}: missing tensor '{name}' ({TunedLensConfig.FileName} says {l} translators of d_model {d})");
            var shapeStored = file.Shape(name);
            if (!shapeStored.SequenceEqual(shape)) throw new MlsaeException($"{paramsPath}: tensor '{name}': expected shape {Shapes.Format(shape)}, got {Shapes.Format(shapeStored)}");
            var t = file.ReadFloat(name);
            file.CheckFinite(name, t);
            return t.to(ScalarType.Float32);
        }
        var w = stack(Enumerable.Range(0, l).Select(i => Read($"{i}.weight", d, d)).ToArray());                           // [L, D, D]
        var b = config.Bias ? stack(Enumerable.Range(0, l).Select(i => Read($"{i}.bias", d)).ToArray())                  // [L, D]
            : zeros(l, d, ScalarType.Float32);
        var reference = new TunedLensReference { Source = source ?? folder, Revision = revision, Sha256 = Hash(configPath, paramsPath) };
        return new TunedLens(config, w.to(device).DetachFromDisposeScope(), b.to(device).DetachFromDisposeScope(), reference);
    }

    /// <summary>A lens from translators in memory (tests, a lens being trained): <paramref name="weights"/>
    /// <c>[L, D, D]</c> and <paramref name="biases"/> <c>[L, D]</c>, copied.</summary>
    public static TunedLens FromTranslators(TunedLensConfig config, Tensor weights, Tensor biases, Device device, TunedLensReference? reference = null)
    {
        Shapes.Check(weights, "tuned lens weights", config.NumHiddenLayers, config.DModel, config.DModel);
        Shapes.Check(biases, "tuned lens biases", config.NumHiddenLayers, config.DModel);
        using var scope = NewDisposeScope();
        return new TunedLens(config, weights.to(ScalarType.Float32).to(device).clone().DetachFromDisposeScope(),
            biases.to(ScalarType.Float32).to(device).clone().DetachFromDisposeScope(),
            reference ?? new TunedLensReference { Source = "memory", Sha256 = "" });
    }

    /// <summary>Fails unless the lens was tuned for a model of <paramref name="numLayers"/> blocks of width
    /// <paramref name="hiddenSize"/>, naming both shapes.</summary>
    public void CheckFits(int numLayers, int hiddenSize, string modelName)
    {
        if (Config.NumHiddenLayers != numLayers || Config.DModel != hiddenSize)
            throw new MlsaeException($"--tuned-lens: {Reference.Source} was tuned for a model of num_hidden_layers {Config.NumHiddenLayers} and d_model {Config.DModel} "
                + $"({Config.BaseModelNameOrPath}), but {modelName} has num_hidden_layers {numLayers} and hidden_size {hiddenSize}");
    }

    /// <summary>Translator <paramref name="i"/>: <c>h + h·W_iᵀ + b_i</c>. // [..., D] → [..., D] float32</summary>
    public Tensor Translate(Tensor hidden, int i)
    {
        Check(i);
        using var scope = NewDisposeScope();
        var h = hidden.to(ScalarType.Float32).to(Device);
        return (h + h.matmul(weights[i].t()) + biases[i]).MoveToOuterDisposeScope();
    }

    /// <summary>The exact inverse of translator <paramref name="i"/>: <c>(y − b_i)·(I + W_i)⁻ᵀ</c>, by a solve
    /// in float64 against the cached LU factorization of <c>I + W_i</c> (no explicit inverse).
    /// // [..., D] → [..., D] float32</summary>
    public Tensor Invert(Tensor translated, int i)
    {
        Check(i);
        var (lu, pivots) = Factor(i);
        using var scope = NewDisposeScope();
        var shape = translated.shape;
        var rows = (translated.to(Device).reshape(-1, Config.DModel).to(ScalarType.Float64) - biases[i].to(ScalarType.Float64)).t();   // [D, N]
        // h·Aᵀ = y − b for every row h ⇔ A·hᵀ = (y − b)ᵀ: one left solve for all rows at once.
        var solved = linalg.lu_solve(lu, pivots, rows).t();                                                                              // [N, D]
        return solved.to(ScalarType.Float32).reshape(shape).MoveToOuterDisposeScope();
    }

    /// <summary>The reference's "inverse" (mlsae's <c>untransform_hidden</c>, an einsum
    /// <c>"n n, b p n -> b p n"</c> that keeps only the diagonal): <c>diag((I + W_i)⁻¹) ⊙ (y − b_i)</c>.
    /// Not the inverse unless W_i is diagonal; only <c>--reference-quirks</c> uses it. // [..., D] → [..., D] float32</summary>
    public Tensor InvertDiagonal(Tensor translated, int i)
    {
        Check(i);
        if (diagonals[i] is null)
        {
            using var scope = NewDisposeScope();
            var a = eye(Config.DModel, dtype: ScalarType.Float64, device: Device) + weights[i].to(ScalarType.Float64);
            diagonals[i] = linalg.inv(a).diagonal().to(ScalarType.Float32).DetachFromDisposeScope();
        }
        using var s = NewDisposeScope();
        return (diagonals[i]! * (translated.to(ScalarType.Float32).to(Device) - biases[i])).MoveToOuterDisposeScope();
    }

    (Tensor Lu, Tensor Pivots) Factor(int i)
    {
        if (factors[i] is { } cached) return cached;
        using var scope = NewDisposeScope();
        var a = eye(Config.DModel, dtype: ScalarType.Float64, device: Device) + weights[i].to(ScalarType.Float64);   // [D, D]
        var (lu, pivots) = linalg.lu_factor(a);
        // A singular I + W has no inverse: the spliced reconstruction would be inf/NaN, so fail instead.
        var smallest = lu.diagonal().abs().min().item<double>();
        if (!(smallest > 0)) throw new MlsaeException($"{Reference.Source}: translator {i} is not invertible (I + W is singular), so reconstructions cannot be mapped back");
        var factor = (lu.DetachFromDisposeScope(), (pivots ?? throw new InvalidOperationException("lu_factor returned no pivots")).DetachFromDisposeScope());
        factors[i] = factor;
        return factor;
    }

    void Check(int i)
    {
        if (i < 0 || i >= Translators) throw new ArgumentOutOfRangeException(nameof(i), $"translator {i} of {Translators}");
    }

    /// <summary>SHA-256 of config.json's bytes followed by the params file's: what run.json records to
    /// know the same lens again.</summary>
    static string Hash(string configPath, string paramsPath)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var path in new[] { configPath, paramsPath })
        {
            using var stream = File.OpenRead(path);
            int n;
            while ((n = stream.Read(buffer)) > 0) hash.AppendData(buffer, 0, n);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        weights.Dispose();
        biases.Dispose();
        foreach (var f in factors) if (f is { } factor) { factor.Lu.Dispose(); factor.Pivots.Dispose(); }
        foreach (var d in diagonals) d?.Dispose();
    }
}
