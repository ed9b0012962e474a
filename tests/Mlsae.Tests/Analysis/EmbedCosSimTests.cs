using Mlsae.Analysis;
using Mlsae.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary>The reference's <c>embed_cos_sim</c>: decoded tokens and the summary of each latent's best similarity, by hand.</summary>
public class EmbedCosSimTests
{
    static readonly Tokenizer Tok = Tokenizer.Load(Fixtures.Path("tokenizer", "tokenizer.json"));

    static int Id(string word)
    {
        var ids = Tok.Encode(word);
        Assert.Single(ids);
        return ids[0];
    }

    [Fact]
    public void EachLatentGetsItsMostSimilarTokensDecodedAndTheBestAreSummarized()
    {
        int a = Id(" file"), b = Id(" —"), c = Id("."), outside = Tok.Count + 1;
        Assert.Null(Tok.IdToToken(outside));
        int v = outside + 1;
        var embedIn = new float[v * 3];
        var embedOut = new float[v * 3];
        void Row(float[] m, int id, float x, float y, float z) => (m[id * 3], m[id * 3 + 1], m[id * 3 + 2]) = (x, y, z);
        Row(embedIn, a, 2, 0, 0);       // latent 0: cos 1
        Row(embedIn, b, 1, 1, 0);       // both: cos 1/√2
        Row(embedIn, c, 0, 3, 1);       // latent 1: cos 3/√10
        Row(embedOut, c, 1, 1, 0);      // both: cos 1/√2
        Row(embedOut, outside, 0, 5, 0);  // latent 1: cos 1, an id the tokenizer does not know
        using var scope = NewDisposeScope();
        var decoder = tensor(new float[] { 1, 0, 0, 0, 2, 0 }, [2, 3]);
        var result = EmbedCosSim.Compute(decoder, tensor(embedIn, [v, 3]), tensor(embedOut, [v, 3]), Tok, 2, chunk: 1);

        Assert.Equal([0L, 1], result.Latents);
        Assert.Equal([(long)a, b], result.EmbedIn.Top[0].Select(m => m.TokenId));
        Assert.Equal([" file", " —"], result.EmbedIn.Top[0].Select(m => m.Token));   // decoded text, not the byte-level pieces
        Assert.Equal("ĠâĢĶ", Tok.IdToToken(b));
        Assert.Equal([(long)c, b], result.EmbedIn.Top[1].Select(m => m.TokenId));
        Assert.Equal([".", " —"], result.EmbedIn.Top[1].Select(m => m.Token));
        Assert.Equal(3 / Math.Sqrt(10), result.EmbedIn.Top[1][0].CosSim, 6);
        Assert.Equal(("", 1f), (result.EmbedOut.Top[1][0].Token, result.EmbedOut.Top[1][0].CosSim));

        // The reference's summary: mean, unbiased var and std, sem = std / √F of the best per latent.
        double[] bestIn = [1, 3 / Math.Sqrt(10)], bestOut = [1 / Math.Sqrt(2), 1];
        foreach (var (best, table) in new[] { (bestIn, result.EmbedIn), (bestOut, result.EmbedOut) })
        {
            double mean = (best[0] + best[1]) / 2;
            double variance = ((best[0] - mean) * (best[0] - mean) + (best[1] - mean) * (best[1] - mean)) / (2 - 1);
            Assert.Equal(mean, table.Mean, 6);
            Assert.Equal(variance, table.Var, 6);
            Assert.Equal(Math.Sqrt(variance), table.Std, 6);
            Assert.Equal(Math.Sqrt(variance) / Math.Sqrt(2), table.Sem, 6);
        }
    }

    [Fact]
    public void ChosenLatentsAreSummarizedAloneAndWrittenAsTheReferencesCsv()
    {
        using var scope = NewDisposeScope();
        int a = Id(" file"), v = a + 1;
        var embed = zeros([v, 2]);
        embed[a] = tensor(new float[] { 0, 1 });
        var result = EmbedCosSim.Compute(tensor(new float[] { 1, 0, 0, 1, 1, 1 }, [3, 2]), embed, embed, Tok, 1, [2]);
        Assert.Equal([2L], result.Latents);
        Assert.Equal(1 / Math.Sqrt(2), result.EmbedIn.Mean, 6);
        Assert.True(double.IsNaN(result.EmbedIn.Var));               // one latent: torch.var is NaN too
        var path = Path.Combine(Fixtures.TempDir(), "e.json");
        var csvs = result.Save(path, new Dictionary<string, string> { ["model"] = "tiny" });
        Assert.Equal([Path.ChangeExtension(path, null) + "_embed_in.csv", Path.ChangeExtension(path, null) + "_embed_out.csv"], csvs);
        var lines = File.ReadAllLines(csvs[0]);
        Assert.Equal("latent,token,sim,token_id", lines[0]);
        Assert.StartsWith("2, file,0.70710", lines[1]);
        Assert.EndsWith("," + a, lines[1]);
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        Assert.Equal(1 / Math.Sqrt(2), json.GetProperty("embed_in").GetProperty("mean").GetDouble(), 6);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("embed_out").GetProperty("var").ValueKind);
        Assert.Equal(" file", json.GetProperty("latents")[0].GetProperty("embed_out")[0].GetProperty("token").GetString());
        Assert.Throws<MlsaeException>(() => EmbedCosSim.Compute(tensor(new float[] { 1, 0 }, [1, 2]), embed, embed, Tok, 1, [1]));
    }
}
