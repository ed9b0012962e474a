using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Bench;
using Xunit;

namespace Mlsae.Tests.Bench;

/// <summary>
/// The bench's Python-reference plumbing without Python: how discovery reports a missing or
/// torch-less Python, that a reference whose torch did not load OpenBLAS is refused, and the JSON
/// row shape (the field names the issue fixes, null reference fields beside a reason). No timing.
/// </summary>
public class BenchReferenceTests
{
    static readonly string UnusedCache = Path.Combine(Path.GetTempPath(), "mlsae-bench-test-never-created");

    [Fact]
    public void AMissingPythonIsReportedByPathAndNothingElseRuns()
    {
        var found = PythonReference.Discover("/nonexistent/python3", disabled: false, UnusedCache);
        Assert.Null(found.Runtime);
        Assert.Contains("/nonexistent/python3 not found", found.Reason);
        Assert.False(Directory.Exists(UnusedCache));   // no OpenBLAS fetch without a Python
    }

    [Fact]
    public void APythonThatCannotImportTorchIsReportedAsSuch()
    {
        var fake = FakePython("echo 'ModuleNotFoundError: No module named torch' >&2; exit 1");
        var found = PythonReference.Discover(fake, disabled: false, UnusedCache);
        Assert.Null(found.Runtime);
        Assert.Equal($"{fake} cannot import torch (ModuleNotFoundError: No module named torch)", found.Reason);
        Assert.False(Directory.Exists(UnusedCache));
    }

    [Fact]
    public void NoReferenceFlagWins()
    {
        var found = PythonReference.Discover("/nonexistent/python3", disabled: true, UnusedCache);
        Assert.Null(found.Runtime);
        Assert.Equal("--no-reference was given", found.Reason);
    }

    [Fact]
    public void AResultMeasuredWithoutOpenBlasIsRefused()
    {
        var netlib = FakePython("""echo '{"VectorsPerSecond": 64, "BlasIsOpenBlas": false, "Blas": ["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"]}'""");
        var outcome = PythonReference.Run(new PythonReference.Runtime(netlib, "1.13", "/tmp"), "sae_step.py", [], 2, "test");
        Assert.Null(outcome.Json);
        Assert.Contains("did not load OpenBLAS", outcome.Error);
        Assert.Contains("blas/libblas.so.3.11.0", outcome.Error);

        var openblas = FakePython("""echo "{\"VectorsPerSecond\": 1600, \"BlasIsOpenBlas\": true, \"Threads\": $OPENBLAS_NUM_THREADS, \"Path\": \"$LD_LIBRARY_PATH\"}" """);
        var ok = PythonReference.Run(new PythonReference.Runtime(openblas, "1.13", "/opt/openblas"), "sae_step.py", [], 3, "test");
        Assert.Null(ok.Error);
        Assert.Equal(1600, ok.Json!.Value.GetProperty("VectorsPerSecond").GetDouble());
        Assert.Equal(3, ok.Json.Value.GetProperty("Threads").GetInt32());   // the pool is sized to --threads
        Assert.StartsWith("/opt/openblas", ok.Json.Value.GetProperty("Path").GetString());
    }

    [Fact]
    public void ARowWithoutTheReferenceHasNullReferenceFieldsAndTheReason()
    {
        var ours = new SaeStepBench.Measured(Step(4000, dead: 0), Step(3500, dead: 0.5));
        var row = JsonNode.Parse(JsonSerializer.Serialize(SaeStepBench.Compose(32, "float32", ours, null, "/usr/bin/python3 not found")))!.AsObject();
        Assert.Equal(32, (int)row["ExpansionFactor"]!);
        Assert.Equal("float32", (string)row["Dtype"]!);
        Assert.Equal(4000, (double)row["SparseVectorsPerSecond"]!);
        Assert.Equal(0.5, (double)row["HalfDeadFraction"]!);
        foreach (var field in new[] { "ReferenceVectorsPerSecond", "ReferenceHalfDeadVectorsPerSecond", "RatioToReference", "RatioToReferenceHalfDead", "ReferencePeakRssMiB" })
        {
            Assert.True(row.ContainsKey(field), field);
            Assert.Null(row[field]);
        }
        Assert.Equal("/usr/bin/python3 not found", (string)row["ReferenceError"]!);
        Assert.Null(row["Error"]);
    }

    [Fact]
    public void RatiosDivideOursByTheReferenceAndAFailedSideIsNull()
    {
        var reference = new SaeStepBench.Measured(Step(1600, dead: 0), Step(1500, dead: 0.5));
        var row = SaeStepBench.Compose(64, "bfloat16", new SaeStepBench.Measured(Step(4000, 0), Step(3000, 0.5)), reference, null);
        Assert.Equal(2.5, row.RatioToReference);
        Assert.Equal(2.0, row.RatioToReferenceHalfDead);
        Assert.Null(row.ReferenceError);

        var failed = new StepMeasurement { Error = "ExternalException: bf16 not supported" };
        var broken = SaeStepBench.Compose(64, "bfloat16", new SaeStepBench.Measured(failed, failed), reference, null);
        Assert.Null(broken.SparseVectorsPerSecond);
        Assert.Null(broken.RatioToReference);
        Assert.Equal(1600, broken.ReferenceVectorsPerSecond);
        Assert.Equal("ExternalException: bf16 not supported", broken.Error);
    }

    [Fact]
    public void TokenFilesRoundTripAndARaggedFileNamesItself()
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, "tokens.bin");
        var sequences = BenchTokens.Generate(3, 5);
        BenchTokens.Write(path, sequences);
        Assert.Equal(3 * 5 * 8, new FileInfo(path).Length);
        Assert.Equal(sequences, BenchTokens.Read(path, 5));
        var e = Assert.Throws<MlsaeException>(() => BenchTokens.Read(path, 4));
        Assert.Contains(path, e.Message);
    }

    static StepMeasurement Step(double vectorsPerSecond, double dead) =>
        new() { VectorsPerSecond = vectorsPerSecond, StepMs = 4096 / vectorsPerSecond * 1000, DeadFraction = dead, PeakRssMiB = 1000 };

    /// <summary>An executable shell script standing in for Python (it ignores its arguments).</summary>
    static string FakePython(string body)
    {
        var path = Path.Combine(Fixtures.TempDir(), "python3");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
