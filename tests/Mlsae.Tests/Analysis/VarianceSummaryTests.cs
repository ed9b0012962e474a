using Mlsae.Analysis;
using Xunit;

namespace Mlsae.Tests.Analysis;

public class VarianceSummaryTests
{
    [Fact]
    public void SaveThenLoadGivesTheSameSummary() =>
        SampleResults.AssertRoundTrips(SampleResults.Variances(), (v, p) => v.Save(p), VarianceSummary.Load, "variances.json");

    [Fact]
    public void TheCommandsFormWithTokensAndStringMetadataRoundTrips() =>
        SampleResults.AssertRoundTrips(SampleResults.Variances() with
        {
            BatchSize = null, MaxLength = null, Tokens = 2048,
            Metadata = new Dictionary<string, string> { ["model"] = "tiny", ["layers"] = "0,1", ["max_length"] = "128", ["batch_size"] = "8" },
        }, (v, p) => v.Save(p), VarianceSummary.Load, "variances.json");

    [Fact]
    public void TheTrainFormIsTheFiveValuesThenBatchesBatchSizeAndMaxLength()
    {
        var path = Path.Combine(Fixtures.TempDir(), "variances.json");
        SampleResults.Variances().Save(path);
        Assert.Equal("""
            {
              "exp_var_l_f": 0.37,
              "exp_var_l_tf": 0.026,
              "var_l": 0.39,
              "rel_var_f": 0.95,
              "rel_var_t": null,
              "batches": 16,
              "batch_size": 8,
              "max_length": 128
            }

            """.ReplaceLineEndings("\n"), File.ReadAllText(path));
    }

    [Theory]
    [InlineData("""{"exp_var_l_f": 0.3, "exp_var_l_tf": 0.1, "var_l": 0.2, "rel_var_f": 1, "rel_var_t": "high", "batches": 2}""", "'rel_var_t' must be a number or null, found a string")]
    [InlineData("""{"exp_var_l_f": 0.3, "exp_var_l_tf": 0.1, "var_l": 0.2, "rel_var_f": 1, "rel_var_t": 0.5}""", "'batches' is missing")]
    [InlineData("""{"exp_var_l_f": 0.3, "exp_var_l_tf": 0.1, "var_l": 0.2, "rel_var_f": 1, "rel_var_t": 0.5, "batches": 2, "model": 7}""", "'model' must be a string, found a number")]
    [InlineData("""{"exp_var_l_f": 0.3, "exp_var_l_tf": 0.1, "var_l": 0.2, "rel_var_f": 1, "rel_var_t": 0.5, "batches": 2, "batch_size": true}""", "'batch_size' must be a string, found a boolean")]
    [InlineData("\"variances\"", "expected a JSON object, found a string")]
    public void AWrongShapedFileIsAnErrorNamingTheFileAndTheField(string text, string expected) =>
        SampleResults.AssertRejects(VarianceSummary.Load, "variances.json", text, expected);

    [Fact]
    public void AFileCutInHalfIsAnErrorNamingTheFile() =>
        SampleResults.AssertRejectsTruncated(SampleResults.Variances().Save, VarianceSummary.Load, "variances.json");
}
