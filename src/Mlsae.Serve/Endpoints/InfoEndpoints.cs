using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Mlsae.Serve.Endpoints;

/// <summary><c>GET /api/info</c> (what is loaded) and <c>GET /api/run</c> (the run overview).</summary>
public static class InfoEndpoints
{
    /// <summary>Maps the routes.</summary>
    public static void Map(RouteGroupBuilder api, Explorer explorer, ServeOptions options)
    {
        var config = explorer.Model.Model.Config;
        api.MapGet("/info", context => ApiCall.Get(context, options, _ => new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["id"] = explorer.Model.Name, ["layers"] = config.NumHiddenLayers, ["hidden_size"] = config.HiddenSize, ["vocab_size"] = config.VocabSize,
                ["tokenizer"] = explorer.Tokenizer is not null,
            },
            ["sae"] = new JsonObject
            {
                ["id"] = explorer.SaeName, ["kind"] = explorer.Sae.Kind, ["latents"] = explorer.Sae.NLatents, ["k"] = explorer.Sae.K,
                ["layers"] = ApiJson.Integers(explorer.Model.Layers.Select(l => (long)l)), ["lens"] = explorer.Lens,
            },
            ["data"] = new JsonObject
            {
                ["examples"] = explorer.Examples is not null, ["dists"] = explorer.Catalog is not null, ["run"] = explorer.Run is not null,
                ["dists_tokens"] = explorer.Catalog?.Tokens,
            },
            ["limits"] = new JsonObject { ["max_prompt_tokens"] = options.MaxPromptTokens, ["max_body_bytes"] = options.MaxBodyBytes },
        }));
        api.MapGet("/run", context => ApiCall.Get(context, options, _ =>
        {
            var run = explorer.Run ?? throw new NotFoundException("the SAE was not loaded from a run folder");
            return new JsonObject
            {
                ["name"] = run.Name,
                ["options"] = JsonNode.Parse(run.Options),
                ["eval"] = run.Eval is { } eval ? new JsonObject
                {
                    ["headers"] = new JsonArray(eval.Headers.Select(h => (JsonNode?)h).ToArray()),
                    ["rows"] = new JsonArray(eval.Rows.Select(r => (JsonNode?)new JsonArray(r.Select(c => (JsonNode?)c).ToArray())).ToArray()),
                } : null,
                ["figures"] = new JsonArray(run.Figures.Select(f => (JsonNode?)new JsonObject { ["name"] = f.Name, ["png"] = Convert.ToBase64String(f.Png) }).ToArray()),
            };
        }));
    }
}
