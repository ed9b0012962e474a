using System.Text;

namespace Mlsae.Hub;

/// <summary>
/// The <c>README.md</c> that <c>datasets</c>' <c>push_to_hub</c> writes for a new dataset repo: only a
/// YAML header with <c>dataset_info</c> (features, the train split's <c>num_bytes</c> and
/// <c>num_examples</c>, <c>download_size</c>, <c>dataset_size</c>) and <c>configs</c> (the default
/// config's train split in <c>data/train-*</c>). The <c>configs</c> entry is what makes
/// <c>load_dataset</c> read just the Parquet shard, not the other files beside it.
/// </summary>
public static class DatasetCard
{
    /// <summary>The card's name in the repo.</summary>
    public const string File = "README.md";

    /// <summary>The card for <paramref name="columns"/> stored in a Parquet file of <paramref name="downloadSize"/> bytes.
    /// Lists are written <c>sequence: &lt;dtype&gt;</c>, as <c>datasets</c> 2.x (the reference's) writes them.</summary>
    public static string Text(IReadOnlyList<DatasetColumn> columns, long downloadSize)
    {
        long bytes = columns.Sum(c => c.ArrowBytes());
        int rows = columns.Count == 0 ? 0 : columns[0].Rows;
        var yaml = new StringBuilder("---\ndataset_info:\n  features:\n");
        foreach (var c in columns)
            yaml.Append($"  - name: {c.Name}\n    {(c.IsList ? "sequence" : "dtype")}: {c.Dtype}\n");
        yaml.Append($"  splits:\n  - name: train\n    num_bytes: {bytes}\n    num_examples: {rows}\n");
        yaml.Append($"  download_size: {downloadSize}\n  dataset_size: {bytes}\n");
        yaml.Append("configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n---\n");
        return yaml.ToString();
    }
}
