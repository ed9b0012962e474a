namespace Mlsae.Training;

/// <summary>
/// A training run's folder: <c>run.json</c> (every argument), the reference-format checkpoint at
/// its root (<c>config.json</c>, <c>model.safetensors</c>), <c>state/</c> for resume,
/// <c>metrics.jsonl</c>, <c>eval.json</c> and <c>summary.md</c>.
/// </summary>
public static class RunFolder
{
    /// <summary>The arguments file.</summary>
    public const string RunFile = "run.json";

    /// <summary>Whether <paramref name="dir"/> holds a run (not just a bare checkpoint).</summary>
    public static bool IsRun(string dir) => File.Exists(Path.Combine(dir, RunFile));

    /// <summary>The run's arguments.</summary>
    public static TrainOptions Options(string dir) => TrainOptions.Load(Path.Combine(dir, RunFile));
}
