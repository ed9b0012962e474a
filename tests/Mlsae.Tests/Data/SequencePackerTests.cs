using System.Text.Json;
using Mlsae.Data;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Data;

/// <summary>The four scenarios of ../shared/fixtures/tokenizer/pipeline_cases.json, exact.</summary>
public class SequencePackerTests
{
    static readonly JsonElement Cases = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement;

    [Theory]
    [InlineData("main")]
    [InlineData("batched_16")]
    [InlineData("too_short")]
    [InlineData("exact_multiple")]
    public void ProducesTheReferenceSequences(string name)
    {
        var tokenizer = Tokenizer.Load(Fixtures.Path("tokenizer"));
        var documents = Cases.GetProperty("documents").EnumerateArray().Select(d => d.GetString()!).ToArray();
        var scenario = Cases.GetProperty("scenarios").EnumerateArray().First(s => s.GetProperty("name").GetString() == name);
        var docs = scenario.GetProperty("document_indices").EnumerateArray().Select(i => documents[i.GetInt32()]);
        var eos = tokenizer.TokenToId(Cases.GetProperty("eos_token").GetString()!)!.Value;
        Assert.Equal(Cases.GetProperty("eos_token_id").GetInt32(), eos);
        var actual = SequencePacker.Pack(docs, tokenizer, eos, scenario.GetProperty("max_length").GetInt32(),
            scenario.GetProperty("map_batch_size").GetInt32()).ToList();
        var expected = scenario.GetProperty("expected_sequences").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToList();
        Assert.Equal(scenario.GetProperty("num_sequences").GetInt32(), actual.Count);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void JoinedTextTokenizesToTheSameIdsAsPerDocumentEncoding()
    {
        // The packer encodes documents one by one; that equals tokenizing EOS.join([""] + docs)
        // because the special token splits the raw text first.
        var tokenizer = Tokenizer.Load(Fixtures.Path("tokenizer"));
        var scenario = Cases.GetProperty("scenarios")[0];
        var batch = scenario.GetProperty("batches")[0];
        var joined = tokenizer.Encode(batch.GetProperty("joined_text").GetString()!);
        Assert.Equal(batch.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()), joined);
    }
}
