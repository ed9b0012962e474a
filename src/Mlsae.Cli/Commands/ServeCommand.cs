using System.CommandLine;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Mlsae.Analysis;
using Mlsae.Explorer;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Serve;
using static TorchSharp.torch;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae serve</c>: the interactive explorer in the browser (prompts, latents by layer, latent pages, logits, steering).</summary>
public static class ServeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var sae = new SaeOptions();
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder or tokenizer.json (default: the model's; without one only input_ids prompts are accepted)" };
        var examples = new Option<string?>("--examples") { Description = "Examples database from `mlsae examples` (default: the run's examples.db)" };
        var dists = new Option<string?>("--dists") { Description = "Dists file from `mlsae dists` (default: the run's dists.safetensors)" };
        var host = new Option<string>("--host") { Description = "Address to listen on; a non-loopback one requires a token", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port (0: any free one, printed)", DefaultValueFactory = _ => 8080 };
        var token = new Option<string?>("--token") { Description = "Token every request must carry (generated and printed in the URL for a non-loopback --host when left out)" };
        var maxPrompt = new Option<int>("--max-prompt-tokens") { Description = "Longest prompt accepted, in tokens", DefaultValueFactory = _ => 1024 };
        var lens = new TunedLensOptions();
        var command = new Command("serve", "Serve the interactive explorer: prompts, latents by layer, latent pages, logits and steering, in the browser")
        {
            model, revision, tokenizer, examples, dists, host, port, token, maxPrompt,
        };
        sae.AddTo(command);
        lens.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var options = new ServeOptions
            {
                Host = parse.GetValue(host)!, Port = parse.GetValue(port), Token = parse.GetValue(token), MaxPromptTokens = parse.GetValue(maxPrompt),
            }.Validate();
            if (!options.IsLoopback && options.Token is null)
                options = options with { Token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant() };
            using var explorer = Open(parse, console, sae, lens, model, revision, tokenizer, examples, dists);
            using var stop = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            var server = ExplorerServer.StartAsync(explorer, options).GetAwaiter().GetResult();
            try
            {
                console.Out.WriteLine($"listening on {server.Url}");
                if (options.Token is string t) console.Out.WriteLine($"open {server.Url}/?token={t}");
                console.Out.Flush();
                try { server.WaitAsync(stop.Token).GetAwaiter().GetResult(); }
                catch (OperationCanceledException) { }
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return 0;
        }));
        return command;
    }

    static Serve.Explorer Open(ParseResult parse, CliConsole console, SaeOptions sae, TunedLensOptions lens, Option<string?> model, Option<string> revision,
        Option<string?> tokenizer, Option<string?> examples, Option<string?> dists)
    {
        var resolved = sae.Load(parse, console, CPU);
        ModelSession? session = null;
        try
        {
            var run = resolved.Run;
            var modelName = resolved.Model(parse.GetValue(model)) ?? EmbeddedDefaults.Model(null, console);
            var hub = CliHub.Lazy(console);
            session = ModelSession.Open(modelName, parse.GetValue(revision)!, resolved.LayerList(null), CPU, ScalarType.Float32,
                run?.Model.SkipSpecialTokens ?? true, hub, lens.Hook(parse, console, modelName, resolved, hub, CPU),
                allowNonFiniteWeights: run?.Model.AllowNonFiniteWeights ?? false);
            resolved.CheckLayers(session.Layers);
            if (session.Model.Config.HiddenSize != resolved.Autoencoder.NInputs)
                throw new MlsaeException($"--sae: the SAE reads {resolved.Autoencoder.NInputs}-dimensional vectors but {session.Name} has hidden_size {session.Model.Config.HiddenSize}");
            bool isRun = Run.Exists(resolved.Folder);
            string? Default(Option<string?> option, string file) =>
                parse.GetValue(option) ?? (isRun && File.Exists(Path.Combine(resolved.Folder, file)) ? Path.Combine(resolved.Folder, file) : null);
            var examplesPath = Default(examples, Run.ExamplesFile);
            var distsPath = Default(dists, Run.DistsFile);
            LatentCatalog? catalog = null;
            if (distsPath is not null)
            {
                if (!File.Exists(distsPath)) throw new MlsaeException($"--dists: {distsPath}: file not found");
                catalog = LatentCatalog.From(LayerDists.Load(distsPath).Dists, session.Layers.Length, resolved.Autoencoder.NLatents, distsPath);
            }
            var tokenizerPath = parse.GetValue(tokenizer);
            if (tokenizerPath is not null && !File.Exists(tokenizerPath) && !File.Exists(Path.Combine(tokenizerPath, "tokenizer.json")))
                throw new MlsaeException($"--tokenizer: {tokenizerPath}: no tokenizer.json there");
            var explorer = new Serve.Explorer
            {
                Model = session, Sae = resolved.Autoencoder, SaeName = parse.GetValue(sae.Sae)!,
                Tokenizer = tokenizerPath is not null ? Tokenization.Tokenizer.Load(tokenizerPath) : session.HasTokenizer ? session.Tokenizer : null,
                Examples = examplesPath is null ? null : new ExamplesQueries(examplesPath),
                Catalog = catalog,
                Run = isRun ? RunOverview.Read(resolved.Folder) : null,
            };
            if (explorer.Tokenizer is null) console.Notice("serve: no tokenizer; only input_ids prompts are accepted and tokens show as ids");
            return explorer;
        }
        catch
        {
            session?.Dispose();
            resolved.Dispose();
            throw;
        }
    }
}
