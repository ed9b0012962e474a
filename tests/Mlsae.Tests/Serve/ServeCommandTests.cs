using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Xunit;

namespace Mlsae.Tests.Serve;

/// <summary>The real <c>mlsae serve</c> process: it prints its URL once ready and stops on SIGINT.</summary>
[Collection(ServeCollection.Name)]
public sealed class ServeCommandTests(ServeFixture serve)
{
    [Fact]
    public async Task Serve_PrintsTheBoundPortAndAnswers()
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "mlsae.dll"), "serve", "--sae", serve.RunFolder, "--port", "0"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        try
        {
            var readLine = process.StandardOutput.ReadLineAsync();
            var line = await readLine.WaitAsync(TimeSpan.FromSeconds(90));
            var match = Regex.Match(line ?? "", @"^listening on (http://127\.0\.0\.1:(\d+))$");
            Assert.True(match.Success, $"first line: {line}; stderr: {(process.HasExited ? await process.StandardError.ReadToEndAsync() : "")}");
            Assert.NotEqual("0", match.Groups[2].Value);
            using (var client = new HttpClient { BaseAddress = new Uri(match.Groups[1].Value) })
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/info")).StatusCode);
                var page = await client.GetStringAsync("/");
                Assert.Contains("<script src=\"/app.js\"", page);
                Assert.DoesNotContain("http", page.Replace("http-equiv", ""));      // nothing fetched from elsewhere
            }
            // A test host started in the background by a non-interactive shell (`dotnet test &`) ignores
            // SIGINT, and its children inherit that (POSIX), so serve could not see it: then SIGTERM,
            // which serve handles the same way, is the signal to stop it.
            string signal = SigIntIgnored() ? "TERM" : "INT";
            Process.Start("kill", ["-" + signal, process.Id.ToString()])!.WaitForExit();
            // Generous: on 2 cores shared with the rest of the suite the exit itself can take seconds.
            Assert.True(process.WaitForExit(60_000), $"serve did not stop on SIG{signal}");
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of the <c>SigIgn</c> mask in /proc/self/status).</summary>
    static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }
}
