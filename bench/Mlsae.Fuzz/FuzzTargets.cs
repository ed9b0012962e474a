using System.Text;
using Mlsae.Autoencoder;
using Mlsae.Data;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Tokenization;
using TorchSharp;

namespace Mlsae.Fuzz;

/// <summary>
/// The fuzz targets. Each takes the fuzzer's bytes and either parses them or throws
/// <see cref="MlsaeException"/>, which it swallows: any other exception escapes and is a crash.
/// None creates a tensor, so libtorch is never loaded and an execution costs microseconds.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Targets by name, in the order <c>fuzz.sh all</c> runs them.</summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["safetensors"] = Safetensors,
        ["torchzip"] = TorchZip,
        ["pickle"] = Pickle,
        ["index"] = Index,
        ["tokenizer"] = TokenizerJson,
        ["neox-config"] = NeoXConfig,
        ["sae-config"] = SaeConfig,
        ["jsonl"] = Jsonl,
        ["hub"] = Hub,
    };

    // Files for targets whose API takes a path. Per process: AFL may run several instances.
    static readonly string Scratch = CreateScratch();

    static string CreateScratch()
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Path.Combine(root, $"mlsae-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    static string WriteScratch(string name, byte[] input)
    {
        var path = Path.Combine(Scratch, name);
        File.WriteAllBytes(path, input);
        return path;
    }

    static void Expect(Action parse)
    {
        try { parse(); }
        catch (MlsaeException) { }
    }

    /// <summary>A safetensors file: 8-byte length, JSON header, data (header validation only).</summary>
    static void Safetensors(byte[] input) => Expect(() => SafeTensorsHeader.Read("input.safetensors", new MemoryStream(input)));

    /// <summary>A torch.save zip: central directory, data.pkl, every tensor view against its entry.</summary>
    static void TorchZip(byte[] input) => Expect(() => TorchCheckpoint.Open("input.bin", new MemoryStream(input)).Dispose());

    /// <summary>A data.pkl alone, as if every storage entry held 1 MiB (the zip's CRC would reject most pickle mutations).</summary>
    static void Pickle(byte[] input) => Expect(() => TorchStateDict.Parse(input, "data.pkl", (_, _) => 1L << 20));

    /// <summary>An HF index file whose shards (two names the seeds use) exist and hold tensors a, b, c.</summary>
    static void Index(byte[] input)
    {
        foreach (var shard in IndexShards)
            if (!File.Exists(Path.Combine(Scratch, shard))) File.WriteAllBytes(Path.Combine(Scratch, shard), []);
        var path = WriteScratch("model.safetensors.index.json", input);
        Expect(() => ShardedWeights.Open(path, p => new FakeShard(p)).Dispose());
    }

    /// <summary>Shard files the index seeds name.</summary>
    public static readonly string[] IndexShards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];

    sealed class FakeShard(string path) : IWeightSource
    {
        public string Path => path;
        public IReadOnlyCollection<string> Names { get; } = ["a", "b", "c"];
        public long[] Shape(string name) => [1];
        public torch.ScalarType DType(string name) => torch.ScalarType.Float32;
        public torch.Tensor Read(string name) => throw new NotSupportedException("the fuzz target reads no tensors");
        public void Dispose() { }
    }

    /// <summary>tokenizer.json, then one encode and decode of a fixed text.</summary>
    static void TokenizerJson(byte[] input)
    {
        var path = WriteScratch("tokenizer.json", input);
        Expect(() =>
        {
            var tokenizer = Tokenizer.Load(path);
            var ids = tokenizer.Encode("Hello world, naïve café 😀 <|endoftext|> 123\n\t  x");
            tokenizer.Decode(ids);
        });
    }

    /// <summary>A GPT-NeoX config.json.</summary>
    static void NeoXConfig(byte[] input)
    {
        var path = WriteScratch("config.json", input);
        Expect(() => GptNeoXConfig.Load(path));
    }

    /// <summary>An MLSAE config.json (the reference's format).</summary>
    static void SaeConfig(byte[] input) => Expect(() => MlsaeConfig.FromJson(Encoding.UTF8.GetString(input), "config.json"));

    /// <summary>A JSONL document file, strict and with bad lines skipped.</summary>
    static void Jsonl(byte[] input)
    {
        var path = WriteScratch("docs.jsonl", input);
        Expect(() => TextDocuments.Read(path).Count());
        Expect(() => TextDocuments.Read(path, new DocumentOptions(SkipBadLines: true), new DataReport()).Count());
    }

    /// <summary>Hub cache names, one per line: revision, repo id, repo type, commit, ETag, digest,
    /// repo file (joined under a snapshot), shard name (joined under a model folder).</summary>
    static void Hub(byte[] input)
    {
        var lines = Encoding.UTF8.GetString(input).Split('\n');
        string Line(int i) => i < lines.Length ? lines[i] : "";
        var repo = Path.Combine(Scratch, "models--org--name");
        Expect(() => HubPaths.Revision(Line(0)));
        Expect(() => HubPaths.RepoId(Line(1)));
        Expect(() => HubPaths.RepoType(Line(2)));
        Expect(() => HubPaths.Commit(Line(3), "X-Repo-Commit"));
        Expect(() => HubPaths.Etag(Line(4), "ETag"));
        Expect(() => HubPaths.Digest(Line(5), "blob"));
        Expect(() =>
        {
            var file = HubPaths.RepoFile(Line(6), "repo file");
            HubPaths.Inside(repo, Path.Combine(repo, "snapshots", new string('0', 40), file), "repo file");
        });
        Expect(() => ContainedPath.Combine(repo, Line(7), "shard"));
    }
}
