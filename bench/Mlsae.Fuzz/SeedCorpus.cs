using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace Mlsae.Fuzz;

/// <summary>
/// Writes the seed corpus: one folder per target of small valid inputs, generated here or cut
/// down from the lead's fixtures (so the committed seeds stay a few KB; `fuzz.sh` only reads them).
/// </summary>
public static class SeedCorpus
{
    /// <summary>Writes seeds/&lt;target&gt;/* under <paramref name="output"/>, reading fixtures from <paramref name="fixtures"/>.</summary>
    public static void Write(string fixtures, string output)
    {
        void Seed(string target, string name, byte[] bytes)
        {
            var dir = Path.Combine(output, target);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
        string Fixture(params string[] parts) => Path.Combine([fixtures, .. parts]);

        Seed("safetensors", "f32-i64-metadata.safetensors", Safetensors(
            """{"__metadata__":{"format":"pt"},"encoder.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"last_nonzero":{"dtype":"I64","shape":[2],"data_offsets":[24,40]}}""", 40));
        Seed("safetensors", "scalar-empty-bool.safetensors", Safetensors(
            """{"w":{"dtype":"BF16","shape":[],"data_offsets":[0,2]},"e":{"dtype":"U8","shape":[0,4],"data_offsets":[2,2]},"m":{"dtype":"BOOL","shape":[3],"data_offsets":[2,5]}}""", 5));

        var statePickle = StateDict(("w", "FloatStorage", "0", 6, 0, [2, 3], [3, 1]), ("w.T", "FloatStorage", "0", 6, 0, [3, 2], [1, 3]),
            ("b", "LongStorage", "1", 3, 1, [2], [1]));
        Seed("torchzip", "generated.bin", TorchZip(statePickle, [("0", new byte[24]), ("1", new byte[24])], CompressionLevel.NoCompression));
        var (fixturePickle, fixtureStorages) = ReadTorchZip(Fixture("gpt_neox", "modelC_bin", "pytorch_model.bin"));
        // The fixture's real pickle, its storages zeroed and deflated: a realistic seed of ~5 KB.
        Seed("torchzip", "pythia-like.bin", TorchZip(fixturePickle, fixtureStorages.Select(s => (s.Key, new byte[s.Length])).ToList(), CompressionLevel.Optimal));
        Seed("pickle", "generated.pkl", statePickle);
        Seed("pickle", "pythia-like.pkl", fixturePickle);

        var shards = FuzzTargets.IndexShards;
        Seed("index", "two-shards.json", Encoding.UTF8.GetBytes(
            $$$"""{"metadata":{"total_size":48},"weight_map":{"a":"{{{shards[0]}}}","b":"{{{shards[1]}}}","c":"{{{shards[0]}}}"}}"""));

        Seed("tokenizer", "tokenizer.json", SmallTokenizer(Fixture("tokenizer", "tokenizer.json")));
        Seed("neox-config", "modelB.json", File.ReadAllBytes(Fixture("gpt_neox", "modelB", "config.json")));
        Seed("neox-config", "modelC.json", File.ReadAllBytes(Fixture("gpt_neox", "modelC", "config.json")));
        Seed("sae-config", "config.json", File.ReadAllBytes(Fixture("mlsae", "sae_checkpoint", "config.json")));
        Seed("jsonl", "docs.jsonl", Encoding.UTF8.GetBytes(
            "{\"text\":\"Hello world\"}\n{\"text\":\"na\\u00efve caf\u00e9 \ud83d\ude00\",\"meta\":{\"id\":1}}\n{\"text\":\"\"}\n\n{\"id\":2,\"text\":\"line\\nbreak\"}\n"));
        Seed("hub", "names.txt", Encoding.UTF8.GetBytes(string.Join("\n",
            "main", "EleutherAI/pythia-70m-deduped", "model", new string('a', 40), $"W/\"{new string('0', 40)}\"",
            new string('f', 64), "onnx/model.safetensors", "model-00001-of-00002.safetensors")));
    }

    static byte[] Safetensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. new byte[dataBytes]];
    }

    static byte[] TorchZip(byte[] pickle, IReadOnlyList<(string Key, byte[] Data)> storages, CompressionLevel level)
    {
        var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] data)
            {
                using var s = zip.CreateEntry(name, level).Open();
                s.Write(data);
            }
            Add("archive/data.pkl", pickle);
            foreach (var (key, data) in storages) Add($"archive/data/{key}", data);
        }
        return buffer.ToArray();
    }

    static (byte[] Pickle, List<(string Key, int Length)> Storages) ReadTorchZip(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var pkl = zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
        using var s = pkl.Open();
        var bytes = new MemoryStream();
        s.CopyTo(bytes);
        var storages = zip.Entries.Where(e => e.FullName.Contains("/data/", StringComparison.Ordinal))
            .Select(e => (e.FullName[(e.FullName.LastIndexOf('/') + 1)..], (int)e.Length)).ToList();
        return (bytes.ToArray(), storages);
    }

    // torch.save's layout (protocol 2): OrderedDict() then SETITEMS of name -> _rebuild_tensor_v2(...).
    static byte[] StateDict(params (string Name, string Type, string Key, long Numel, long Offset, long[] Size, long[] Stride)[] tensors)
    {
        var p = new List<byte> { 0x80, 2 };
        void Op(params byte[] b) => p.AddRange(b);
        void Global(string module, string name) { Op((byte)'c'); Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); Op((byte)'X'); Op(BitConverter.GetBytes(b.Length)); Op(b); }
        void Int(long v) { Op((byte)'J'); Op(BitConverter.GetBytes((int)v)); }
        void Ints(long[] v) { Op((byte)'('); foreach (var x in v) Int(x); Op((byte)'t'); }
        void OrderedDict() { Global("collections", "OrderedDict"); Op((byte)')', (byte)'R'); }
        OrderedDict();
        Op((byte)'(');
        foreach (var t in tensors)
        {
            Str(t.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op((byte)'(', (byte)'(');
            Str("storage"); Global("torch", t.Type); Str(t.Key); Str("cpu"); Int(t.Numel);
            Op((byte)'t', (byte)'Q');
            Int(t.Offset); Ints(t.Size); Ints(t.Stride);
            Op(0x89);
            OrderedDict();
            Op((byte)'t', (byte)'R');
        }
        Op((byte)'u', (byte)'.');
        return p.ToArray();
    }

    // The fixture's tokenizer with its vocab cut to the byte alphabet and the merges among them:
    // the same structure (NFC, ByteLevel, BPE, added tokens) in ~5 KB instead of 35 KB.
    static byte[] SmallTokenizer(string path)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var model = json["model"]!.AsObject();
        const int keep = 300;
        var vocab = new JsonObject();
        foreach (var (token, id) in model["vocab"]!.AsObject())
            if (id!.GetValue<int>() < keep) vocab[token] = id.GetValue<int>();
        var merges = new JsonArray();
        foreach (var m in model["merges"]!.AsArray())
        {
            var parts = m!.GetValue<string>().Split(' ');
            if (parts.Length == 2 && vocab.ContainsKey(parts[0]) && vocab.ContainsKey(parts[1]) && vocab.ContainsKey(parts[0] + parts[1]))
                merges.Add(m.GetValue<string>());
        }
        model["vocab"] = vocab;
        model["merges"] = merges;
        var added = new JsonArray();
        foreach (var a in json["added_tokens"]!.AsArray())
            if (a!["id"]!.GetValue<int>() < keep) added.Add(a.DeepClone());
        json["added_tokens"] = added;
        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }
}
