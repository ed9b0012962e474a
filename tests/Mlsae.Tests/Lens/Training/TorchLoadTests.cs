using System.Diagnostics;
using Mlsae.Lens.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Lens.Training;

/// <summary>
/// Python's own <c>torch.load</c> reads the params.pt our pickle and zip writers produce, and a strict
/// <c>load_state_dict</c> into the package's Linear translators accepts it. Needs Debian's
/// python3-torch under /usr/bin/python3 (`.ci/run` installs it when missing).
/// </summary>
public class TorchLoadTests
{
    const string Python = "/usr/bin/python3";

    [Fact]
    public async Task PythonTorchLoadsTheWrittenLensWithTheSameTensors()
    {
        var dir = WriteRandomLens();

        var script = Path.Combine(AppContext.BaseDirectory, "Lens", "Training", "torch_load_lens.py");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(dir);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var lines = await output;
        Assert.True(process.ExitCode == 0, $"{Python} {script}: exit {process.ExitCode}\n{error}");
        Assert.Contains("OrderedDict 6 ['0.weight', '0.bias', '1.weight', '1.bias']", lines);
        Assert.Contains("keys equal True max abs diff 0.0", lines);
        Assert.Contains("<All keys matched successfully>", lines);
        Assert.EndsWith("ok", lines.TrimEnd());
    }

    // Synchronous, so the dispose scope opens and closes on one thread (the test awaits afterwards).
    static string WriteRandomLens()
    {
        using var scope = NewDisposeScope();
        var dir = Fixtures.TempDir();
        using var translators = new LensTranslators(3, 16, CPU);
        using (no_grad())
        {
            manual_seed(5);
            foreach (var p in translators.Parameters) p.copy_(randn(p.shape) * 0.1);
        }
        TunedLensFiles.Write(dir, translators, "tiny", "abc");
        return dir;
    }
}
