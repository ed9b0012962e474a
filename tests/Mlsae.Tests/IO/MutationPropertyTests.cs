using CsCheck;
using Mlsae.Tests.Tokenization;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

/// <summary>
/// Random byte mutations (bit flips, inserts, deletes, truncation, overwrites with boundary
/// integers) of valid files: each either loads correctly or is one <see cref="MlsaeException"/>;
/// any other exception fails the property (and CsCheck shrinks it to a minimal mutation list).
/// </summary>
public class MutationPropertyTests
{
    /// <summary>One edit. Region 0 aims anywhere, 1 at the first 4 KB (headers, pickles), 2 at the last 4 KB (zip directory).</summary>
    public sealed record Mutation(int Kind, int Region, int Position, byte Value);

    static readonly long[] Boundaries = [0, -1, 1, int.MaxValue, uint.MaxValue, 1L << 31, 1L << 62, long.MaxValue, long.MinValue];

    static readonly Gen<Mutation[]> Mutations =
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Byte, (k, r, p, v) => new Mutation(k, r, p, v)).Array[1, 6];

    static byte[] Apply(byte[] original, Mutation[] mutations)
    {
        var bytes = original.ToList();
        foreach (var m in mutations)
        {
            if (bytes.Count == 0) break;
            int window = Math.Min(bytes.Count, 4096);
            int at = m.Region switch { 1 => m.Position % window, 2 => bytes.Count - 1 - m.Position % window, _ => m.Position % bytes.Count };
            switch (m.Kind)
            {
                case 0: bytes[at] ^= (byte)(1 << (m.Value & 7)); break;
                case 1: bytes.Insert(at, m.Value); break;
                case 2: bytes.RemoveRange(at, Math.Min(1 + m.Value % 16, bytes.Count - at)); break;
                case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                default:
                    var b = BitConverter.GetBytes(Boundaries[m.Value % Boundaries.Length]);
                    for (int i = 0; i < b.Length && at + i < bytes.Count; i++) bytes[at + i] = b[(m.Value & 8) != 0 ? i : i % 4];
                    break;
            }
        }
        return bytes.ToArray();
    }

    static byte[] ValidSafetensors()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "valid.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = randn(4, 3),
            ["pre_encoder_bias"] = randn(3).to(ScalarType.BFloat16),
            ["last_nonzero"] = arange(4, ScalarType.Int64),
            ["empty"] = zeros(0, 2),
        }, new Dictionary<string, string> { ["format"] = "pt" });
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void MutatedSafetensorsLoadCorrectlyOrFailWithOneError()
    {
        var original = ValidSafetensors();
        var dir = Fixtures.TempDir();
        Mutations.SampleFixed(mutations =>
        {
            var bytes = Apply(original, mutations);
            var path = Path.Combine(dir, $"{Guid.NewGuid():N}.safetensors");
            File.WriteAllBytes(path, bytes);
            try
            {
                using var file = SafeTensorsFile.Open(path);
                long dataStart = 8 + (long)BitConverter.ToUInt64(bytes, 0);
                foreach (var (name, e) in file.Entries)
                {
                    using var t = file.Read(name);
                    Assert.Equal(e.Shape, t.shape);
                    Assert.Equal(e.Type, t.dtype);
                    // Correct means: exactly the bytes the header points at.
                    Assert.Equal(bytes[(int)(dataStart + e.Begin)..(int)(dataStart + e.End)], t.numel() == 0 ? [] : t.bytes.ToArray());
                }
            }
            catch (MlsaeException) { }
            finally { File.Delete(path); }
        }, iter: 300, seed: 1299709);
    }

    static byte[] ValidTorchZip(System.IO.Compression.CompressionLevel level)
    {
        var pickle = PickleBuilder.StateDict(
            new TensorSpec("w", "0", 12, 0, [3, 4], [4, 1]),
            new TensorSpec("w.T", "0", 12, 0, [4, 3], [1, 4]),
            new TensorSpec("b", "1", 3, 1, [2], [1], "LongStorage"));
        var storages = new Dictionary<string, byte[]> { ["0"] = new byte[48], ["1"] = new byte[24] };
        new Random(1).NextBytes(storages["0"]);
        return File.ReadAllBytes(TestZips.TorchZip(pickle, storages, level));
    }

    static void LoadAll(byte[] bytes)
    {
        try
        {
            using var ckpt = TorchCheckpoint.Open("mutated.bin", new MemoryStream(bytes));
            foreach (var name in ckpt.Names)
            {
                using var t = ckpt.Read(name);
                Assert.Equal(ckpt.Shape(name), t.shape);
                Assert.Equal(ckpt.DType(name), t.dtype);
            }
        }
        catch (MlsaeException) { }
    }

    [Fact]
    public void MutatedStoredTorchZipLoadsOrFailsWithOneError()
    {
        var original = ValidTorchZip(System.IO.Compression.CompressionLevel.NoCompression);
        Mutations.SampleFixed(m => LoadAll(Apply(original, m)), iter: 300, seed: 104729);
    }

    [Fact]
    public void MutatedDeflatedTorchZipLoadsOrFailsWithOneError()
    {
        var original = ValidTorchZip(System.IO.Compression.CompressionLevel.Optimal);
        Mutations.SampleFixed(m => LoadAll(Apply(original, m)), iter: 300, seed: 104729);
    }

    [Fact]
    public void MutatedRealTorchCheckpointLoadsOrFailsWithOneError()
    {
        var original = File.ReadAllBytes(Fixtures.Path("gpt_neox", "modelC_bin", "pytorch_model.bin"));
        Mutations.SampleFixed(m => LoadAll(Apply(original, m)), iter: 300, seed: 104729);
    }
}
