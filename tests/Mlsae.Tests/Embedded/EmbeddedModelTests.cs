using System.Text.Json;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Embedded;

/// <summary>The shipped model (embedded/model) has exactly what HF transformers' GPTNeoXForCausalLM
/// needs, laid out as real Pythia checkpoints are, and it is a real language model.</summary>
public class EmbeddedModelTests
{
    static readonly string Folder = Path.Combine(Fixtures.RepoRoot, "embedded", "model");

    [Fact]
    public void ConfigAndTensorsHaveThePythiaStructure()
    {
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "config.json"))).RootElement;
        // The keys of EleutherAI/pythia-*-deduped config.json files.
        string[] pythiaKeys = ["architectures", "bos_token_id", "eos_token_id", "hidden_act", "hidden_size", "initializer_range", "intermediate_size",
            "layer_norm_eps", "max_position_embeddings", "model_type", "num_attention_heads", "num_hidden_layers", "rotary_emb_base", "rotary_pct",
            "tie_word_embeddings", "torch_dtype", "transformers_version", "use_cache", "use_parallel_residual", "vocab_size"];
        foreach (var key in pythiaKeys) Assert.True(config.TryGetProperty(key, out _), $"config.json lacks {key}");
        Assert.Equal("GPTNeoXForCausalLM", config.GetProperty("architectures")[0].GetString());
        Assert.Equal("gpt_neox", config.GetProperty("model_type").GetString());
        Assert.True(config.GetProperty("use_parallel_residual").GetBoolean());
        Assert.Equal(0.25, config.GetProperty("rotary_pct").GetDouble());
        Assert.False(config.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.Equal("float16", config.GetProperty("torch_dtype").GetString());
        int layers = config.GetProperty("num_hidden_layers").GetInt32(), d = config.GetProperty("hidden_size").GetInt32();
        int inter = config.GetProperty("intermediate_size").GetInt32(), vocab = config.GetProperty("vocab_size").GetInt32();
        Assert.InRange(layers, 4, 8);

        var expected = new Dictionary<string, long[]>
        {
            ["gpt_neox.embed_in.weight"] = [vocab, d], ["embed_out.weight"] = [vocab, d],
            ["gpt_neox.final_layer_norm.weight"] = [d], ["gpt_neox.final_layer_norm.bias"] = [d],
        };
        for (int i = 0; i < layers; i++)
        {
            var p = $"gpt_neox.layers.{i}.";
            foreach (var ln in new[] { "input_layernorm", "post_attention_layernorm" }) { expected[p + ln + ".weight"] = [d]; expected[p + ln + ".bias"] = [d]; }
            expected[p + "attention.query_key_value.weight"] = [3 * d, d]; expected[p + "attention.query_key_value.bias"] = [3 * d];
            expected[p + "attention.dense.weight"] = [d, d]; expected[p + "attention.dense.bias"] = [d];
            expected[p + "mlp.dense_h_to_4h.weight"] = [inter, d]; expected[p + "mlp.dense_h_to_4h.bias"] = [inter];
            expected[p + "mlp.dense_4h_to_h.weight"] = [d, inter]; expected[p + "mlp.dense_4h_to_h.bias"] = [d];
        }
        using var weights = SafeTensorsFile.Open(Path.Combine(Folder, "model.safetensors"));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), weights.Names.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected)
        {
            Assert.Equal(shape, weights.Shape(name));
            Assert.Equal(TorchSharp.torch.ScalarType.Float16, weights.DType(name));
        }
        Assert.Equal("pt", weights.Metadata["format"]);
        Assert.True(new FileInfo(Path.Combine(Folder, "model.safetensors")).Length <= 10_000_000, "weights must stay under 10 MB");
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(Folder, f)), f);
        Assert.True(Tokenizer.Load(Folder).Count <= vocab);
    }

    [Fact]
    public void HeldOutSplitMatchesTheGeneratorAndTheModelBeatsTheBigramEntropy()
    {
        var heldOut = Path.Combine(Fixtures.RepoRoot, "embedded", "heldout.jsonl");
        var docs = File.ReadLines(heldOut).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToList();
        Assert.Equal(new Mlsae.Embedded.SyntheticCorpus().Documents(Mlsae.Embedded.SyntheticCorpus.Split.HeldOut).Take(docs.Count), docs);
        var card = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "embedded", "MODEL_CARD.md"));
        Assert.Contains("-- pretrain --tokenizer", card);
        Assert.Contains("bigram", card);

        // Loss on held-out sequences, measured here, against the corpus's bigram entropy (2.58 nats/token).
        using var model = GptNeoXLoader.Load(Folder);
        var tok = Tokenizer.Load(Folder);
        var sequences = Mlsae.Data.SequencePacker.Pack(docs, tok, 0, 128).Take(16).ToArray();
        Assert.Equal(16, sequences.Length);
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        var tokens = TorchSharp.torch.tensor(sequences.SelectMany(s => s).ToArray(), [16, 128]);
        double loss = GptNeoX.NextTokenLoss(model.Forward(tokens, layers: [], logits: true).Logits!, tokens).item<float>();
        Assert.True(loss < 2.0, $"held-out loss {loss:F3} nats/token does not clearly beat the bigram entropy 2.58");
    }
}
