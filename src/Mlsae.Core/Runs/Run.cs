using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.IO;
using Mlsae.Training;

namespace Mlsae.Runs;

/// <summary>
/// A training run's folder: <c>run.json</c> (every argument), the reference-format checkpoint at
/// its root (<c>config.json</c>, <c>model.safetensors</c>), <c>state/</c> for resume,
/// <c>metrics.jsonl</c>, and the results a finished run leaves (eval, summary, dists, variances,
/// prompt, figures, report), each readable back as a typed object.
/// </summary>
public sealed class Run
{
    /// <summary>The arguments file.</summary>
    public const string RunFile = "run.json";
    /// <summary>The validation metrics.</summary>
    public const string EvalFile = "eval.json";
    /// <summary>The Markdown summary.</summary>
    public const string SummaryFile = "summary.md";
    /// <summary>Latent distributions over layers (with .json, .csv and figures beside it).</summary>
    public const string DistsFile = "dists.safetensors";
    /// <summary>The variance ratios.</summary>
    public const string VariancesFile = "variances.json";
    /// <summary>The single-prompt analysis (with its heatmap beside it).</summary>
    public const string PromptFile = "prompt.json";
    /// <summary>The max-activating examples of the validation batches (what <c>mlsae serve</c> shows per latent).</summary>
    public const string ExamplesFile = "examples.db";
    /// <summary>The HTML report.</summary>
    public const string ReportFile = "report.html";
    /// <summary>One line per logged step.</summary>
    public const string MetricsFile = "metrics.jsonl";

    Run(string folder, TrainOptions options)
    {
        Folder = folder;
        Options = options;
    }

    /// <summary>The run folder.</summary>
    public string Folder { get; }
    /// <summary>The run's arguments, as <c>run.json</c> holds them.</summary>
    public TrainOptions Options { get; }

    /// <summary>A file of the run folder.</summary>
    public string PathOf(string file) => Path.Combine(Folder, file);

    /// <summary>Whether <paramref name="folder"/> holds a run (not just a bare checkpoint).</summary>
    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, RunFile));

    /// <summary>Opens an existing run folder.</summary>
    public static Run Open(string folder)
    {
        if (!Exists(folder)) throw new MlsaeException($"{folder} holds no {RunFile} (not a run folder)");
        return new Run(folder, TrainOptions.Load(Path.Combine(folder, RunFile)));
    }

    /// <summary>Whether the run in <paramref name="folder"/> wrote a resumable checkpoint.</summary>
    public static bool HasCheckpoint(string folder) => File.Exists(TrainingState.PathIn(folder));

    /// <summary>
    /// Creates the folder and writes <c>run.json</c>. A folder that already holds a run is an error,
    /// except, with <paramref name="replaceUnstarted"/>, one whose run failed before its first
    /// checkpoint (nothing to resume, so a retry replaces it).
    /// </summary>
    public static Run Create(string folder, TrainOptions options, bool replaceUnstarted = false)
    {
        if (Exists(folder) && (!replaceUnstarted || HasCheckpoint(folder))) throw new MlsaeException($"--out: {folder} already holds a run; pass --resume to continue it or choose another folder");
        Directory.CreateDirectory(folder);
        AtomicFile.WriteText(Path.Combine(folder, RunFile), options.ToJson());
        return new Run(folder, options);
    }

    /// <summary>The run that rank 0 of a data-parallel job writes in <paramref name="folder"/>, as another
    /// rank sees it: the folder and this rank's options; nothing is read or written.</summary>
    public static Run OfOtherRank(string folder, TrainOptions options) => new(folder, options);

    /// <summary>Whether a resumable training state was written.</summary>
    public bool HasState => HasCheckpoint(Folder);

    /// <summary>The validation metrics, or null before the run finished.</summary>
    public EvalResult? Eval() => Read(PathOf(EvalFile), EvalResult.Load);
    /// <summary>The variance ratios, or null.</summary>
    public VarianceSummary? Variances() => Read(PathOf(VariancesFile), VarianceSummary.Load);
    /// <summary>The dists summary, or null.</summary>
    public DistsSummary? Dists() => Read(DistsFiles.SummaryPath(PathOf(DistsFile)), DistsSummary.Load);
    /// <summary>The single-prompt analysis, or null.</summary>
    public PromptAnalysis? Prompt() => Read(PathOf(PromptFile), PromptAnalysis.Load);

    static T? Read<T>(string path, Func<string, T> load) where T : class => File.Exists(path) ? load(path) : null;
}
