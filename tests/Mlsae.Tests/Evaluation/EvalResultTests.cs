using Mlsae.Evaluation;
using Xunit;

namespace Mlsae.Tests.Evaluation;

public class EvalResultTests
{
    [Fact]
    public void SaveThenLoadGivesTheSameResult() =>
        SampleResults.AssertRoundTrips(SampleResults.Eval(), (r, p) => r.Save(p), EvalResult.Load, "eval.json");

    [Fact]
    public void NonFiniteValuesAreWrittenAsNullAndTheMeansBeside()
    {
        var path = Path.Combine(Fixtures.TempDir(), "eval.json");
        new EvalResult([3], 8, 1, new Dictionary<string, double[]> { ["fvu"] = [double.NaN], ["l0"] = [4] }, 0.5).Save(path);
        Assert.Equal("""
            {
              "fvu": [
                null
              ],
              "fvu_mean": null,
              "l0": [
                4
              ],
              "l0_mean": 4,
              "dead_fraction": 0.5,
              "dead_fraction_total": null,
              "layers": [
                3
              ],
              "tokens": 8,
              "batches": 1,
              "tuned_lens": null,
              "reconstruction_space": "residual_stream"
            }

            """.ReplaceLineEndings("\n"), File.ReadAllText(path));
        Assert.True(double.IsNaN(EvalResult.Load(path).PerLayer["fvu"][0]));
    }

    [Fact]
    public void TheTunedLensIsRecordedAndReadBack()
    {
        var path = Path.Combine(Fixtures.TempDir(), "eval.json");
        var lens = new Mlsae.Lens.TunedLensReference { Source = "EleutherAI/pythia-70m-deduped", Revision = new string('a', 40), Sha256 = new string('b', 64) };
        new EvalResult([0], 8, 1, new Dictionary<string, double[]> { ["fvu"] = [0.5] }, 0) { TunedLens = lens }.Save(path);
        var read = EvalResult.Load(path);
        Assert.Equal(lens, read.TunedLens);
        Assert.Equal("tuned_lens", read.ReconstructionSpace);
        Assert.Null(EvalResult.Load(WithoutLens()).TunedLens);

        static string WithoutLens()
        {
            var p = Path.Combine(Fixtures.TempDir(), "old.json");
            File.WriteAllText(p, """{"fvu": [0.5], "layers": [0], "tokens": 8, "dead_fraction": 0}""");
            return p;
        }
    }

    [Theory]
    [InlineData("""{"layers": [0], "tokens": "many", "dead_fraction": 0}""", "'tokens' must be an integer, found a string")]
    [InlineData("""{"layers": [0], "tokens": 1.5, "dead_fraction": 0}""", "'tokens' must be an integer, found 1.5")]
    [InlineData("""{"layers": [0], "fvu": ["low"], "tokens": 1, "dead_fraction": 0}""", "'fvu[0]' must be a number or null, found a string")]
    [InlineData("""{"layers": [0, 1], "fvu": [0.5], "tokens": 1, "dead_fraction": 0}""", "'fvu' has 1 values for 2 layers")]
    [InlineData("""{"layers": [0, "one"], "tokens": 1, "dead_fraction": 0}""", "'layers[1]' must be an integer, found a string")]
    [InlineData("""{"layers": 3, "tokens": 1, "dead_fraction": 0}""", "'layers' must be an array, found a number")]
    [InlineData("""{"layers": [0], "tokens": 1}""", "'dead_fraction' is missing")]
    [InlineData("""{"layers": [0], "tokens": 1, "dead_fraction": null}""", "'dead_fraction' must be a number, found null")]
    [InlineData("""[{"layers": [0]}]""", "expected a JSON object, found an array")]
    [InlineData("""{"layers": [0], "layers": [1]}""", "not valid JSON")]
    public void AWrongShapedFileIsAnErrorNamingTheFileAndTheField(string text, string expected) =>
        SampleResults.AssertRejects(EvalResult.Load, "eval.json", text, expected);

    [Fact]
    public void ATruncatedFileIsAnErrorNamingTheFile() =>
        SampleResults.AssertRejectsTruncated(SampleResults.Eval().Save, EvalResult.Load, "eval.json");
}
