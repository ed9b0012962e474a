namespace Mlsae.Reports;

/// <summary>The names of the result files <c>mlsae train</c> writes into a run folder, which the
/// figures and the report read back.</summary>
static class RunFiles
{
    public const string Eval = "eval.json";
    public const string Variances = "variances.json";
    public const string Prompt = "prompt.json";
    public const string Dists = "dists.safetensors";
    public const string Summary = "summary.md";

    /// <summary>The run's folder, checked to hold a run.json.</summary>
    public static string Check(string dir) =>
        Training.RunFolder.IsRun(dir) ? dir : throw new MlsaeException($"{dir} holds no {Training.RunFolder.RunFile} (not a run folder)");
}
