using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Mlsae.Explorer;

namespace Mlsae.Serve.Endpoints;

/// <summary><c>POST /api/prompt</c>, <c>/api/prompt/reconstruct</c> and <c>/api/prompt/steer</c>.</summary>
public static class PromptEndpoints
{
    /// <summary>Maps the routes.</summary>
    public static void Map(RouteGroupBuilder api, Explorer explorer, ServeOptions options)
    {
        api.MapPost("/prompt", context => ApiCall.Post(context, options, (body, cancel) =>
        {
            var request = PromptRequest.Parse(body, explorer, options);
            var prompt = PromptLatents.Compute(explorer.Model, explorer.Sae, request.Ids, Explorer.TopLogits, cancel);
            return new JsonObject
            {
                ["tokens"] = ApiJson.Tokens(prompt.Ids, explorer),
                ["layers"] = ApiJson.Integers(prompt.Layers.Select(l => (long)l)),
                ["latents"] = new JsonArray(prompt.Latents.Select(layer => (JsonNode?)new JsonArray(layer.Select(codes => (JsonNode?)new JsonObject
                {
                    ["indices"] = ApiJson.Integers(codes.Indices),
                    ["values"] = ApiJson.Numbers(codes.Values.Select(v => (double)v)),
                }).ToArray())).ToArray()),
                ["histograms"] = new JsonArray(prompt.Histograms.Select(h => (JsonNode?)new JsonObject
                {
                    ["edges"] = ApiJson.Numbers(h.Edges), ["counts"] = ApiJson.Integers(h.Counts),
                }).ToArray()),
                ["logits"] = ApiJson.LogitRows(prompt.Logits, explorer),
                ["loss"] = prompt.Loss is double loss ? ApiJson.Number(loss) : null,
            };
        }));
        api.MapPost("/prompt/reconstruct", context => ApiCall.Post(context, options, (body, cancel) =>
        {
            var request = PromptRequest.Parse(body, explorer, options);
            return Shift(LogitShift.Reconstruct(explorer.Model, explorer.Sae, request.Ids, request.Layer(explorer), Explorer.TopLogits, cancel), explorer);
        }));
        api.MapPost("/prompt/steer", context => ApiCall.Post(context, options, (body, cancel) =>
        {
            var request = PromptRequest.Parse(body, explorer, options);
            int layer = request.Layer(explorer), latent = request.Latent(explorer);
            double factor = request.Number("factor");
            var shift = LogitShift.Steer(explorer.Model, explorer.Sae, request.Ids, layer, latent, factor, Explorer.TopLogits, cancel);
            var json = Shift(shift, explorer);
            json["latent"] = latent;
            json["factor"] = factor;
            return json;
        }));
    }

    static JsonObject Shift(LogitShift shift, Explorer explorer) => new()
    {
        ["layer"] = shift.Layer,
        ["positions"] = new JsonArray(Enumerable.Range(0, shift.Logits.Length).Select(t => (JsonNode?)new JsonObject
        {
            ["increases"] = ApiJson.Logits(shift.Increases[t], explorer),
            ["decreases"] = ApiJson.Logits(shift.Decreases[t], explorer),
            ["logits"] = ApiJson.Logits(shift.Logits[t], explorer),
        }).ToArray()),
        ["delta_ce"] = shift.DeltaCe is double d ? ApiJson.Number(d) : null,
    };
}
