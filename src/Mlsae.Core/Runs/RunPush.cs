using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Analysis;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Hub;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Runs;

/// <summary>
/// What <c>mlsae push</c> uploads from a run folder, in the reference's layout (its <c>upload.py</c>
/// and the <c>push_to_hub</c> of its analyses):
/// <list type="bullet">
/// <item><c>&lt;repo&gt;</c>: the autoencoder as <c>MLSAE.save_pretrained</c> writes it, <c>config.json</c>
/// and <c>model.safetensors</c> without <c>last_nonzero</c> (upload.py deletes that buffer first);</item>
/// <item><c>&lt;repo&gt;-tfm</c>: the Lightning module's layout, <c>config.json</c> with the
/// <c>MLSAETransformer</c> arguments and the SAE's tensors under <c>autoencoder.</c>;</item>
/// <item><c>&lt;repo&gt;-dists</c> and <c>&lt;repo&gt;-examples</c> (dataset repos, the names the
/// reference's <c>Dists.repo_id</c> and <c>Examples.repo_id</c> derive): what <c>push_to_hub</c> writes
/// (the Parquet train split and the <c>README.md</c> card, so that <c>load_dataset</c> reads them) and,
/// beside it, this tool's dists and examples files as written, which <c>--dists</c> / <c>--examples</c>
/// pull back exactly.</item>
/// </list>
/// </summary>
public static class RunPush
{
    /// <summary>The examples database a run folder may hold (written by <c>mlsae examples --out &lt;run&gt;/examples.db</c>).</summary>
    public const string ExamplesFile = "examples.db";

    /// <summary>One repo to create and commit to.</summary>
    /// <param name="RepoId">The hub id.</param>
    /// <param name="RepoType"><c>model</c> or <c>dataset</c>.</param>
    /// <param name="Files">Files and their paths in the repo.</param>
    /// <param name="Summary">The commit summary.</param>
    public sealed record Target(string RepoId, string RepoType, IReadOnlyList<HubUploadFile> Files, string Summary);

    /// <summary>The dataset repo of a run's dists for <paramref name="repoId"/>, as the reference derives it.</summary>
    public static string DistsRepo(string repoId) => Derived(repoId, "-dists");

    /// <summary>The dataset repo of a run's examples for <paramref name="repoId"/>, as the reference derives it.</summary>
    public static string ExamplesRepo(string repoId) => Derived(repoId, "-examples");

    /// <summary>The Lightning-module repo of <paramref name="repoId"/>.</summary>
    public static string TransformerRepo(string repoId) => repoId + "-tfm";

    static string Derived(string repoId, string suffix) =>
        repoId.EndsWith(suffix, StringComparison.Ordinal) ? repoId
        : repoId.EndsWith("-tfm", StringComparison.Ordinal) ? repoId[..^"-tfm".Length] + suffix
        : repoId + suffix;

    /// <summary>
    /// Writes what to push into <paramref name="staging"/> (an empty folder the caller deletes) and
    /// returns the repos in push order. <paramref name="dists"/> and <paramref name="examples"/> default
    /// to the run's own files; a dataset whose file is absent is left out.
    /// </summary>
    public static IReadOnlyList<Target> Plan(string runFolder, string repoId, string staging, string? dists = null, string? examples = null)
    {
        HubPaths.RepoId(repoId);
        if (repoId.EndsWith("-tfm", StringComparison.Ordinal))
            throw new MlsaeException($"--repo: '{repoId}' ends with -tfm; pass the plain name, the -tfm repo is derived from it");
        var run = Run.Open(runFolder);
        var kind = SparseCoderRegistry.KindOf(runFolder);
        var targets = kind == MlsaeAutoencoder.KindName ? MlsaeRepos(runFolder, repoId, staging, run) : [OtherKindRepo(runFolder, repoId, kind)];
        AddDatasets(targets, run, repoId, staging, dists, examples);
        return targets;
    }

    /// <summary>A per-layer family or a crosscoder has no reference layout: its checkpoint files go up
    /// as the run holds them (for a family its <c>config.json</c> and each <c>layer-N/</c>, every one a
    /// reference-format MLSAE), so <c>--sae &lt;repo&gt;</c> loads it back; no <c>-tfm</c> repo.</summary>
    static Target OtherKindRepo(string runFolder, string repoId, string kind)
    {
        var configPath = Path.Combine(runFolder, MlsaeCheckpoint.ConfigFile);
        IReadOnlyList<string> names = kind == Coders.PerLayer.PerLayerFamily.KindName
            ? [MlsaeCheckpoint.ConfigFile, .. Coders.PerLayer.PerLayerCheckpoint.LayerFiles(configPath)]
            : [MlsaeCheckpoint.ConfigFile, MlsaeCheckpoint.WeightsFile];
        var files = new List<HubUploadFile>();
        foreach (var name in names)
        {
            var local = Path.Combine(runFolder, name.Replace('/', Path.DirectorySeparatorChar));
            if (!File.Exists(local)) throw new MlsaeException($"{runFolder}: no {name} (the run has not saved a checkpoint yet)");
            files.Add(new HubUploadFile(name, local));
        }
        return new Target(repoId, "model", files, $"Upload {kind} sparse coder (mlsae push)");
    }

    static List<Target> MlsaeRepos(string runFolder, string repoId, string staging, Run run)
    {
        var configPath = Path.Combine(runFolder, MlsaeCheckpoint.ConfigFile);
        var weightsPath = Path.Combine(runFolder, MlsaeCheckpoint.WeightsFile);
        if (!File.Exists(weightsPath)) throw new MlsaeException($"{runFolder}: no {MlsaeCheckpoint.WeightsFile} (the run has not saved a checkpoint yet)");
        var config = MlsaeConfig.FromJson(File.ReadAllText(configPath), configPath);

        var plain = Directory.CreateDirectory(Path.Combine(staging, "plain")).FullName;
        var tfm = Directory.CreateDirectory(Path.Combine(staging, "tfm")).FullName;
        File.Copy(configPath, Path.Combine(plain, MlsaeCheckpoint.ConfigFile));
        AtomicFile.WriteText(Path.Combine(tfm, MlsaeCheckpoint.ConfigFile), TransformerArguments(run.Options, config));
        WriteWeights(weightsPath, Path.Combine(plain, MlsaeCheckpoint.WeightsFile), prefix: "");
        WriteWeights(weightsPath, Path.Combine(tfm, MlsaeCheckpoint.WeightsFile), prefix: "autoencoder.");

        var targets = new List<Target>
        {
            new(repoId, "model", Checkpoint(plain), "Upload MLSAE (mlsae push)"),
            new(TransformerRepo(repoId), "model", Checkpoint(tfm), "Upload MLSAETransformer (mlsae push)"),
        };
        return targets;
    }

    static void AddDatasets(List<Target> targets, Run run, string repoId, string staging, string? dists, string? examples)
    {
        var distsPath = dists ?? run.PathOf(Run.DistsFile);
        if (File.Exists(distsPath))
        {
            var (loaded, metadata) = LayerDists.Load(distsPath);   // a file that is not this tool's dists fails now, not after the upload
            var files = new List<HubUploadFile> { new(Run.DistsFile, distsPath) };
            foreach (var (beside, name) in new[] { (DistsFiles.SummaryPath(distsPath), "dists.json"), (DistsFiles.CsvPath(distsPath), "dists.csv") })
                if (File.Exists(beside)) files.Add(new HubUploadFile(name, beside));
            var table = Directory.CreateDirectory(Path.Combine(staging, "dists")).FullName;
            var kept = LayerDists.GivenMetadata(metadata);
            files.AddRange(DistsDataset.Write(loaded, kept, table).Select(p => new HubUploadFile(p, Path.Combine(table, p))));
            targets.Add(new(DistsRepo(repoId), "dataset", files, "Upload dists (mlsae push)"));
        }
        else if (dists is not null) throw new MlsaeException($"--dists: {dists} does not exist");
        var examplesPath = examples ?? run.PathOf(ExamplesFile);
        if (File.Exists(examplesPath))
        {
            var table = Directory.CreateDirectory(Path.Combine(staging, "examples")).FullName;
            var files = new List<HubUploadFile> { new(ExamplesFile, examplesPath) };
            files.AddRange(ExamplesDataset.Write(examplesPath, table).Select(p => new HubUploadFile(p, Path.Combine(table, p))));
            targets.Add(new(ExamplesRepo(repoId), "dataset", files, "Upload examples (mlsae push)"));
        }
        else if (examples is not null) throw new MlsaeException($"--examples: {examples} does not exist");
    }

    /// <summary>Creates each repo (an existing one is reused; <paramref name="isPrivate"/> applies to new
    /// ones) and commits its files; reports each repo through <paramref name="observer"/>.</summary>
    public static void Push(HubUpload hub, IReadOnlyList<Target> targets, bool isPrivate, IRunObserver observer)
    {
        foreach (var target in targets)
        {
            bool created = hub.CreateRepo(target.RepoId, target.RepoType, isPrivate);
            var commit = hub.Commit(target.RepoId, target.RepoType, target.Files, target.Summary);
            var url = $"{hub.Endpoint}/{(target.RepoType == "model" ? "" : target.RepoType + "s/")}{target.RepoId}";
            observer.Notice($"pushed {url}: {string.Join(", ", target.Files.Select(f => f.PathInRepo))}"
                + $" ({(created ? "new repo" : "existing repo")}{(commit is null ? "" : $", commit {commit[..Math.Min(12, commit.Length)]}")})");
        }
    }

    static List<HubUploadFile> Checkpoint(string folder) =>
        [new(MlsaeCheckpoint.ConfigFile, Path.Combine(folder, MlsaeCheckpoint.ConfigFile)), new(MlsaeCheckpoint.WeightsFile, Path.Combine(folder, MlsaeCheckpoint.WeightsFile))];

    /// <summary>The checkpoint's tensors, <c>last_nonzero</c> left out and every key prefixed, with its metadata.</summary>
    static void WriteWeights(string source, string target, string prefix)
    {
        using var scope = NewDisposeScope();
        using var file = SafeTensorsFile.Open(source);
        var tensors = file.Names.Where(n => n != "last_nonzero").ToDictionary(n => prefix + n, file.Read);
        SafeTensorsWriter.Write(target, tensors, file.Metadata.Count == 0 ? null : file.Metadata);
    }

    /// <summary>
    /// The <c>config.json</c> that <c>PyTorchModelHubMixin</c> writes for the reference's
    /// <c>MLSAETransformer</c> (its <c>__init__</c> arguments, keys sorted, 2-space indent). The SAE's
    /// own values (k, auxk, dead thresholds, standardize) come from its checkpoint, and
    /// <c>dead_steps_threshold</c> is written so that the SAE reads back with the same threshold.
    /// </summary>
    public static string TransformerArguments(Training.TrainOptions options, MlsaeConfig config)
    {
        if (config.NLatents % config.NInputs != 0)
            throw new MlsaeException($"push: n_latents {config.NLatents} is not a multiple of n_inputs {config.NInputs}; the -tfm layout needs an integer expansion_factor");
        var node = new JsonObject
        {
            ["accumulate_grad_batches"] = options.Optimizer.AccumulateGradBatches,
            ["auxk"] = config.AuxK is int a ? JsonValue.Create(a) : null,
            ["auxk_coef"] = MlsaeConfig.PythonFloat(options.Autoencoder.AuxKCoef),
            ["batch_size"] = options.Data.BatchSize,
            ["dead_steps_threshold"] = config.DeadStepsThreshold,
            ["dead_threshold"] = MlsaeConfig.PythonFloat(config.DeadThreshold),
            ["dead_tokens_threshold"] = options.Autoencoder.DeadTokensThreshold,
            ["expansion_factor"] = config.NLatents / config.NInputs,
            ["k"] = config.K,
            ["layers"] = options.Model.Layers is int[] layers ? new JsonArray(layers.Select(l => (JsonNode)l).ToArray()) : null,
            ["lr"] = MlsaeConfig.PythonFloat(options.Optimizer.Lr),
            ["max_length"] = options.Data.MaxLength,
            ["model_name"] = options.Model.Name,
            ["skip_special_tokens"] = options.Model.SkipSpecialTokens,
            ["standardize"] = config.Standardize,
            ["tuned_lens"] = options.Autoencoder.TunedLens is not null,
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }).ReplaceLineEndings("\n");
    }
}
