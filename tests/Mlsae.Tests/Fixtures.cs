using Mlsae.IO;
using TorchSharp;
using Xunit;

namespace Mlsae.Tests;

/// <summary>Paths to the repository and to the lead's fixtures in ../shared beside it.</summary>
public static class Fixtures
{
    /// <summary>The repository root (the folder holding Mlsae.slnx).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>A path under ../shared/fixtures.</summary>
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([System.IO.Path.GetDirectoryName(RepoRoot)!, "shared", "fixtures", .. parts]);

    static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Mlsae.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Mlsae.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Reads all tensors of a safetensors file into a dictionary (the caller disposes them).</summary>
    public static Dictionary<string, torch.Tensor> ReadAll(string path)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.Names.ToDictionary(n => n, f.Read);
    }

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, reporting the worst entry.</summary>
    public static void AssertClose(torch.Tensor expected, torch.Tensor actual, double atol, double rtol = 0, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.to(torch.ScalarType.Float64).cpu();
        using var a = actual.to(torch.ScalarType.Float64).cpu();
        using var diff = (a - e).abs();
        using var bound = e.abs() * rtol + atol;
        using var excess = diff - bound;
        double worst = excess.max().item<double>();
        double maxDiff = diff.max().item<double>();
        Assert.True(worst <= 0, $"{what}: max |diff| {maxDiff:g4} exceeds atol {atol} + rtol {rtol}");
    }

    /// <summary>This test run's temp root, deleted when the test process exits; roots left by test
    /// processes that were killed (the runner may end its host without an exit event) go at the next run.</summary>
    static readonly Lazy<string> RunRoot = new(() =>
    {
        var parent = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlsae-tests");
        Directory.CreateDirectory(parent);
        foreach (var stale in Directory.EnumerateDirectories(parent, "run-*"))
            if (int.TryParse(System.IO.Path.GetFileName(stale).Split('-')[1], out int pid) && !Alive(pid))
                try { Directory.Delete(stale, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        var root = System.IO.Path.Combine(parent, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { }                  // a file still open: the OS temp cleanup takes the rest
            catch (UnauthorizedAccessException) { }
        };
        return root;
    });

    static bool Alive(int pid)
    {
        try { using var process = System.Diagnostics.Process.GetProcessById(pid); return !process.HasExited; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>A fresh temp folder inside this run's root, which is deleted when the test process exits.</summary>
    public static string TempDir()
    {
        var dir = System.IO.Path.Combine(RunRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
