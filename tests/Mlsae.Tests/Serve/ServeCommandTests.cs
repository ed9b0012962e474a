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
            Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
            // Generous: on 2 cores shared with the rest of the suite the exit itself can take seconds.
            Assert.True(process.WaitForExit(60_000), "serve did not stop on SIGINT");
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }
}
