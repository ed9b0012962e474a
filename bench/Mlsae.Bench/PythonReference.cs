using System.Diagnostics;
using System.Text.Json;

namespace Mlsae.Bench;

/// <summary>
/// The Python reference measured beside us in the same bench run: the scripts in
/// <c>bench/reference/</c> (copied next to the bench), run by a Python with torch and OpenBLAS.
/// <see cref="Discover"/> says whether it can run here and, if not, why; the rows then carry null
/// reference fields and the reason.
/// </summary>
public static class PythonReference
{
    /// <summary>Debian's Python, whose python3-torch (1.13) is the reference's torch here.</summary>
    public const string DefaultPython = "/usr/bin/python3";
    /// <summary>The environment variable that picks another Python (the <c>--python</c> flag wins).</summary>
    public const string PythonVariable = "MLSAE_BENCH_PYTHON";

    /// <summary>A Python that imports torch, and the OpenBLAS folder it runs with.</summary>
    public sealed record Runtime(string Python, string TorchVersion, string BlasDir);

    /// <summary>Whether the reference runs, and why not (<see cref="Reason"/>) when it does not.</summary>
    public sealed record Availability(Runtime? Runtime, string? Reason);

    /// <summary>Where the scripts lie: <c>reference/</c> next to the bench's assembly.</summary>
    public static string ScriptsDir => Path.Combine(AppContext.BaseDirectory, "reference");

    /// <summary>
    /// Finds the reference's runtime: <paramref name="python"/> (<c>--python</c>), else
    /// <c>$MLSAE_BENCH_PYTHON</c>, else <see cref="DefaultPython"/>; it must import torch; then OpenBLAS
    /// from <paramref name="blasCache"/> (<see cref="PrivateOpenBlas.Ensure"/>). Checks run in that
    /// order and stop at the first that fails, so a machine without Python never touches apt.
    /// </summary>
    public static Availability Discover(string? python, bool disabled, string blasCache)
    {
        if (disabled) return new(null, "--no-reference was given");
        var env = Environment.GetEnvironmentVariable(PythonVariable);
        python ??= string.IsNullOrEmpty(env) ? DefaultPython : env;
        if (!File.Exists(python))
            return new(null, $"{python} not found (the reference needs a Python with torch, e.g. Debian's python3-torch; --python <path> picks one)");
        var probe = ChildProcess.Exec(python, ["-c", "import torch; print(torch.__version__)"], timeout: TimeSpan.FromMinutes(2));
        if (probe.ExitCode != 0)
            return new(null, $"{python} cannot import torch ({ChildProcess.LastLine(probe.Stderr, $"exit {probe.ExitCode}")})");
        var (blasDir, reason) = PrivateOpenBlas.Ensure(blasCache);
        if (blasDir is null)
            return new(null, $"no OpenBLAS for the reference, whose torch would use the netlib BLAS ~25× slower: {reason}");
        return new(new Runtime(python, ChildProcess.LastLine(probe.Stdout, "?"), blasDir), null);
    }

    /// <summary>Runs <paramref name="script"/> with OpenBLAS first on <c>LD_LIBRARY_PATH</c>, its pool
    /// sized to <paramref name="threads"/>. A result whose mapped BLAS is not OpenBLAS is refused.</summary>
    public static ChildProcess.Outcome Run(Runtime runtime, string script, IEnumerable<string> arguments, int threads, string label)
    {
        var start = new ProcessStartInfo(runtime.Python);
        start.ArgumentList.Add(Path.Combine(ScriptsDir, script));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        var path = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        start.Environment["LD_LIBRARY_PATH"] = string.IsNullOrEmpty(path) ? runtime.BlasDir : $"{runtime.BlasDir}:{path}";
        start.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        var outcome = ChildProcess.Run(start, label);
        if (outcome.Json is JsonElement json && !(json.TryGetProperty("BlasIsOpenBlas", out var blas) && blas.ValueKind == JsonValueKind.True))
            return new(null, $"the reference's torch did not load OpenBLAS (mapped: {(json.TryGetProperty("Blas", out var b) ? b.ToString() : "?")}); its numbers would measure another BLAS");
        return outcome;
    }

    /// <summary>What the reference ran with, for the JSON: from the runtime and a result's BLAS check.</summary>
    public sealed record Info(bool Available, string? Reason, string? Python, string? Torch, string? OpenBlasDir,
        IReadOnlyList<string>? Blas, double? Matmul2048Ms);

    /// <summary>The <see cref="Info"/> of an availability, with the BLAS facts of a result when there is one.</summary>
    public static Info Describe(Availability availability, JsonElement? result)
    {
        if (availability.Runtime is not Runtime r) return new Info(false, availability.Reason, null, null, null, null, null);
        IReadOnlyList<string>? blas = null;
        double? matmul = null;
        if (result is JsonElement j)
        {
            if (j.TryGetProperty("Blas", out var b) && b.ValueKind == JsonValueKind.Array) blas = [.. b.EnumerateArray().Select(e => e.GetString() ?? "")];
            if (j.TryGetProperty("Matmul2048Ms", out var m) && m.ValueKind == JsonValueKind.Number) matmul = m.GetDouble();
        }
        return new Info(true, null, r.Python, r.TorchVersion, r.BlasDir, blas, matmul);
    }
}
