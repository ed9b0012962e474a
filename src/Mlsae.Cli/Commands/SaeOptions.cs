using System.CommandLine;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Coders.External;
using Mlsae.Interop;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary><c>--sae</c> (a run folder, a bare reference checkpoint folder or a hub id) and what a
/// run folder implies for <c>--model</c>, <c>--layers</c> and <c>--max-length</c>.</summary>
/// <remarks>With <c>several</c> (<c>mlsae test</c>), <c>--sae</c> may be given more than once or
/// hold a comma-separated list.</remarks>
sealed class SaeOptions(bool several = false)
{
    const string Description = "Sparse coder: a run folder, a checkpoint folder (config.json + model.safetensors, or a per-layer family's layer-N/ folders) or a hub id";
    public Option<string> Sae { get; } = new("--sae") { Description = Description, Required = true };
    public Option<string[]> Saes { get; } = new("--sae") { Description = Description + "; repeat it or separate several by commas", Required = true, Arity = ArgumentArity.OneOrMore };
    public Option<string> Revision { get; } = new("--sae-revision") { Description = "Hub revision of --sae", DefaultValueFactory = _ => "main" };

    public void AddTo(Command command)
    {
        command.Options.Add(several ? Saes : Sae);
        command.Options.Add(Revision);
    }

    /// <summary>The SAEs named: one, or with <c>several</c> every <c>--sae</c> value split at commas
    /// (a value that is an existing folder is never split).</summary>
    public IReadOnlyList<string> Names(ParseResult parse) => !several ? [parse.GetValue(Sae)!]
        : parse.GetValue(Saes)!.SelectMany(v => Directory.Exists(v) ? [v] : v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList() is { Count: > 0 } names
            ? names : throw new MlsaeException("--sae: no SAE named");

    /// <summary>A resolved SAE: the sparse coder, and the run's or -tfm checkpoint's defaults.</summary>
    public sealed record Resolved(ISparseCoder Autoencoder, string Folder, TrainOptions? Run, string? ModelName, int[]? Layers) : IDisposable
    {
        /// <summary>Whether the SAE is a reference one trained on tuned-lens vectors (a <c>-lens</c> hub id, or a
        /// <c>-tfm</c> checkpoint with <c>tuned_lens: true</c>): it never runs without its lens.</summary>
        public bool ReferenceLens { get; init; }

        /// <summary>
        /// The decoder a command that reads decoder vectors uses: the MLSAE's one decoder (no
        /// <c>--layer</c>), or for a coder with one decoder per layer (a per-layer family, a crosscoder)
        /// that of model layer <paramref name="layer"/>, which must be given.
        /// </summary>
        public LayerDecoder Decoder(string command, int? layer)
        {
            if (Autoencoder.Layers is null)
            {
                if (layer is not null) throw new MlsaeException($"--layer: {Folder} holds an MLSAE, whose one decoder serves every layer; leave --layer out");
                return Autoencoder.DecoderAt(0);
            }
            var own = OwnLayers ?? throw new MlsaeException($"--sae: {Folder} does not say which layers its '{Autoencoder.Kind}' reads");
            if (layer is not int l)
                throw new MlsaeException($"--layer: {command} reads one decoder, and {Folder} holds a '{Autoencoder.Kind}' with one per layer ({string.Join(", ", own)}); pass --layer to pick one");
            int position = Array.IndexOf(own, l);
            if (position < 0) throw new MlsaeException($"--layer: {l} is not one of the layers [{string.Join(", ", own)}] of {Folder}");
            return Autoencoder.DecoderAt(position);
        }

        /// <summary>The model layers of the coder: the run's, or the checkpoint's.</summary>
        int[]? OwnLayers => Run?.Model.Layers ?? Layers;

        /// <summary>Fails unless a coder that reads fixed layers (a per-layer family, a crosscoder) is given exactly them.</summary>
        public void CheckLayers(IReadOnlyList<int> layers)
        {
            if (Autoencoder.Layers is null || OwnLayers is not { } own || own.SequenceEqual(layers)) return;
            throw new MlsaeException($"--layers: {Folder} holds a '{Autoencoder.Kind}' of layers [{string.Join(", ", own)}], which reads exactly those, not [{string.Join(", ", layers)}]");
        }

        /// <summary>The model to run: --model, else the run's or checkpoint's.</summary>
        public string? Model(string? given) => given ?? Run?.Model.Name ?? ModelName;

        /// <summary>The layers: --layers, else the run's.</summary>
        public string? LayerList(string? given) => given ?? ((Run?.Model.Layers ?? Layers) is int[] l ? string.Join(",", l) : null);

        public void Dispose() => Autoencoder.Dispose();
    }

    /// <summary>Loads <paramref name="name"/> (default: the one <c>--sae</c>).</summary>
    public Resolved Load(ParseResult parse, CliConsole console, TorchSharp.torch.Device device, string? name = null)
    {
        name ??= Names(parse)[0];
        var revision = parse.GetValue(Revision)!;
        var hub = CliHub.Lazy(console);
        if (Directory.Exists(name) && IsExternalFolder(name)) return External(ExternalSaeSource.Open(name, revision, hub, device: device), console);
        string folder;
        try { folder = MlsaeCheckpoint.Resolve(name, revision, hub); }
        catch (MlsaeException mlsae) when (!Directory.Exists(name))
        {
            // Not this tool's checkpoint on the hub: perhaps a SAELens or sparsify repo (org/name[/folder]).
            try { return External(ExternalSaeSource.Open(name, revision, hub, device: device), console); }
            catch (MlsaeException external) { throw new MlsaeException($"{mlsae.Message}; nor is it an external SAE ({external.Message})"); }
        }
        var run = Runs.Run.Exists(folder) ? Runs.Run.Open(folder).Options : null;
        // A run's own settings, except that evaluation and the analyses always encode in float32
        // (whatever --dtype the run trained with); a bare checkpoint gets the defaults.
        var settings = run is null ? new SparseCoderSettings() : CoderSettings.Of(run) with { ComputeDType = TorchSharp.torch.ScalarType.Float32 };
        var loaded = SparseCoderRegistry.Load(folder, settings, device);
        return new Resolved(loaded.Coder, folder, run, loaded.ModelName ?? ReferenceModelName(name), loaded.Layers)
        {
            ReferenceLens = run is null && (loaded.TunedLens || IsReferenceLensId(name)),
        };
    }

    /// <summary>A folder of SAELens or sparsify SAEs (one, or one per hookpoint) rather than a run or checkpoint of this tool.</summary>
    static bool IsExternalFolder(string folder) =>
        !Runs.Run.Exists(folder) && !File.Exists(Path.Combine(folder, MlsaeCheckpoint.WeightsFile))
        && (ExternalSaeFolder.Detect(folder) is not null || Directory.EnumerateDirectories(folder).Any(d => ExternalSaeFolder.Detect(d) is not null));

    /// <summary>External SAEs as a per-layer family: their layers, and the model their files name
    /// (a SAELens TransformerLens name <c>pythia-70m-deduped</c> is EleutherAI's).</summary>
    static Resolved External(ExternalSaeSet set, CliConsole console)
    {
        var family = new ExternalSaeFamily(set);
        foreach (var (skippedFolder, reason) in set.Skipped) console.Notice($"--sae: skipped {Path.GetFileName(skippedFolder)} ({reason})");
        console.Notice($"--sae: {family.Saes.Count} external {family.Saes[0].Config.Format} SAE(s) on layers [{string.Join(", ", family.ModelLayers)}] from {family.Source}, "
            + $"{family.Saes[0].Config.NLatents} latents, k {family.K} (computed as their tool does)");
        var model = family.ModelName is { } m && !m.Contains('/') && m.StartsWith("pythia", StringComparison.Ordinal) ? "EleutherAI/" + m : family.ModelName;
        return new Resolved(family, set.Source, null, model, family.ModelLayers.ToArray());
    }

    /// <summary>Whether <paramref name="sae"/> is the hub id of a published reference SAE trained on tuned-lens
    /// vectors (<c>tim-lawson/mlsae-pythia-70m-deduped-x64-k32-lens</c>).</summary>
    internal static bool IsReferenceLensId(string sae) => ReferenceModelName(sae) is not null && sae.TrimEnd('/').EndsWith("-lens", StringComparison.Ordinal);

    /// <summary>The model a published reference SAE was trained on, from its repo name
    /// (<c>tim-lawson/mlsae-pythia-70m-deduped-x64-k32</c> → <c>EleutherAI/pythia-70m-deduped</c>); null otherwise.</summary>
    internal static string? ReferenceModelName(string sae)
    {
        var match = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(sae.TrimEnd('/')), @"^mlsae-(pythia-[0-9a-z.]+(?:-deduped)?)-x\d+-k\d+(?:-lens)?$");
        return match.Success && !Directory.Exists(sae) ? "EleutherAI/" + match.Groups[1].Value : null;
    }
}
