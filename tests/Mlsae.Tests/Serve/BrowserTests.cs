using Microsoft.Playwright;
using Xunit;

namespace Mlsae.Tests.Serve;

/// <summary>
/// The front end in a real browser: Debian's chromium driven by Playwright (its own browser
/// download is not used). One walk through every view; a screenshot of each is saved under
/// <c>artifacts/serve/</c> in the test output folder.
/// </summary>
[Collection(ServeCollection.Name)]
public sealed class BrowserTests(ServeFixture serve)
{
    /// <summary>The real executable; <c>/usr/bin/chromium</c> is a shell wrapper Playwright cannot drive.</summary>
    const string Chromium = "/usr/lib/chromium/chromium";

    static readonly string Artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts", "serve");

    [Fact]
    public async Task PromptLatentAndRunViews_WorkInChromium()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does)");
        Directory.CreateDirectory(Artifacts);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 1100 } });
        page.SetDefaultTimeout(30_000);
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };

        // Prompt page: submit text, see the tokens with their whitespace visible.
        await page.GotoAsync(serve.Server.Url + "/");
        const string text = "The old keys that the baker found near the river are red.";
        await page.FillAsync("#prompt-text", text);
        await page.ClickAsync("#submit");
        await page.WaitForSelectorAsync(".token");
        Assert.Equal(serve.Explorer.Tokenizer!.Encode(text).Count, await page.Locator(".token").CountAsync());
        Assert.Contains("·old", await page.Locator(".token[data-pos='1']").InnerTextAsync());

        // Click a token: the latent × layer heatmap at that position; a row shades the strip.
        await page.ClickAsync(".token[data-pos='3']");
        await page.WaitForSelectorAsync("#heatmap tr.latent-row");
        int rows = await page.Locator("#heatmap tr.latent-row").CountAsync();
        Assert.True(rows >= serve.Explorer.Sae.K, $"{rows} heatmap rows");
        await page.Locator("#heatmap tr.latent-row td.cell").First.ClickAsync();
        await page.WaitForSelectorAsync("#heatmap tr.latent-row.selected");
        Assert.Contains("shaded by latent", await page.InnerTextAsync("#loss"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "prompt.png"), FullPage = true });

        // The threshold slider hides weak rows.
        await page.Locator("#threshold").PressAsync("End");
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#heatmap tr.latent-row').length < {rows}");
        await page.Locator("#threshold").PressAsync("Home");
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#heatmap tr.latent-row').length === {rows}");

        // Steering: move the factor slider and see the logits change.
        await page.ClickAsync("#tab-steering");
        await page.WaitForSelectorAsync("#steer-out table");
        var before = await page.InnerTextAsync("#steer-out");
        await page.Locator("#factor").PressAsync("End");
        await page.WaitForFunctionAsync("() => document.getElementById('factor-label').textContent === 'factor 50'");
        await page.WaitForFunctionAsync("b => document.getElementById('steer-out').innerText !== b", before);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "steer.png"), FullPage = true });

        // Reconstruction tab answers too.
        await page.ClickAsync("#tab-reconstruction");
        await page.WaitForSelectorAsync("#recon-out table");

        // Latent page, from the heatmap's link.
        await page.ClickAsync("#tab-input");
        await page.Locator("#heatmap tr.latent-row a").First.ClickAsync();
        await page.WaitForSelectorAsync("#latent-view #layer-dist");
        Assert.Equal(serve.Explorer.Model.Layers.Length, await page.Locator("#layer-dist > div").CountAsync());
        // The most frequent latent has stored examples (those of the prompt's latents may have none).
        var frequent = serve.Explorer.Catalog!.Entries.MaxBy(e => e.Frequency)!.Index;
        await page.GotoAsync("about:blank");
        await page.GotoAsync(serve.Server.Url + $"/#/latent/{frequent}");
        await page.WaitForSelectorAsync("#latent-view");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "latent.png"), FullPage = true });
        await page.WaitForSelectorAsync("#latent-view .example");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "latent.png"), FullPage = true });

        // Run overview: metrics, figures, and the dists heatmap leads to a latent.
        await page.GotoAsync(serve.Server.Url + "/#/run");
        await page.WaitForSelectorAsync("#metrics");
        await page.WaitForSelectorAsync("#dists");
        Assert.True(await page.Locator("img.figure").CountAsync() > 0);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "run.png"), FullPage = true });
        await page.Locator("#dists").ClickAsync(new() { Position = new() { X = 2, Y = 2 } });
        await page.WaitForSelectorAsync("#latent-view");

        // The latents list.
        await page.GotoAsync(serve.Server.Url + "/#/latents");
        await page.WaitForSelectorAsync("#latents-view table");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "latents.png"), FullPage = true });
        Assert.Empty(errors);
    }
}
