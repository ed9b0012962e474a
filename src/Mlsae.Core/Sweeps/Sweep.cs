using System.Text.Json.Nodes;
using Mlsae.IO;
using Mlsae.Runs;
using Mlsae.Training;

namespace Mlsae.Sweeps;

/// <summary>
/// A sweep folder: <c>sweep.json</c> (the members, each with its run folder, kind, expansion factor
/// and k, and once trained its metrics), <c>sweep.md</c>, the comparison figures, and one normal
/// run folder per member (<see cref="SweepMember.Dir"/>), usable wherever <c>--sae</c> is.
/// </summary>
public sealed class Sweep
{
    /// <summary>The table of members (written when the sweep starts, with metrics when it ends).</summary>
    public const string SweepFile = "sweep.json";
    /// <summary>The Markdown table.</summary>
    public const string MarkdownFile = "sweep.md";

    Sweep(string folder, IReadOnlyList<(SweepMember Member, Run Run)> members)
    {
        Folder = folder;
        Members = members;
    }

    /// <summary>The sweep folder.</summary>
    public string Folder { get; }
    /// <summary>The members and their run folders, in the sweep's order.</summary>
    public IReadOnlyList<(SweepMember Member, Run Run)> Members { get; }

    /// <summary>Whether <paramref name="folder"/> holds a sweep.</summary>
    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, SweepFile));

    /// <summary>
    /// Creates the sweep folder, one run folder per member with <paramref name="options"/> (already
    /// resolved against the model) given the member's kind, expansion factor and k, and the plan in
    /// <see cref="SweepFile"/>. A folder that already holds a started sweep is an error.
    /// </summary>
    public static Sweep Create(string folder, TrainOptions options, IReadOnlyList<SweepMember> members) => Create(folder, options, members, writes: true);

    /// <summary>As <see cref="Create(string, TrainOptions, IReadOnlyList{SweepMember})"/> on the rank
    /// that writes; on the other ranks of a data-parallel sweep (<paramref name="writes"/> false) the
    /// same members are described in memory and nothing is written.</summary>
    public static Sweep Create(string folder, TrainOptions options, IReadOnlyList<SweepMember> members, bool writes)
    {
        if (!writes)
            return new Sweep(folder, members.Select(m => (m, Run.OfOtherRank(Path.Combine(folder, m.Dir), MemberOptions(options, m).Validate()))).ToList());
        if (Exists(folder) && members.Any(m => Run.HasCheckpoint(Path.Combine(folder, m.Dir))))
            throw new MlsaeException($"--out: {folder} already holds a sweep; pass --resume to continue it or choose another folder");
        Directory.CreateDirectory(folder);
        var runs = new List<(SweepMember, Run)>();
        foreach (var m in members)
        {
            runs.Add((m, Run.Create(Path.Combine(folder, m.Dir), MemberOptions(options, m).Validate(), replaceUnstarted: true)));
        }
        var sweep = new Sweep(folder, runs);
        sweep.WriteTable(null);
        return sweep;
    }

    static TrainOptions MemberOptions(TrainOptions options, SweepMember m) =>
        options with { Autoencoder = options.Autoencoder with { Kind = m.Kind, ExpansionFactor = m.ExpansionFactor, K = m.K } };

    /// <summary>Opens a sweep folder and its members' runs.</summary>
    public static Sweep Open(string folder)
    {
        var path = Path.Combine(folder, SweepFile);
        if (!File.Exists(path)) throw new MlsaeException($"{folder} holds no {SweepFile} (not a sweep folder)");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException e) { throw MlsaeException.From($"{path}: malformed JSON", e); }
        if (root?["members"] is not JsonArray array) throw new MlsaeException($"{path}: no \"members\" list");
        var members = new List<(SweepMember, Run)>();
        foreach (var node in array)
        {
            var dir = node?["dir"]?.GetValue<string>() ?? throw new MlsaeException($"{path}: a member without \"dir\"");
            var run = Run.Open(ContainedPath.Combine(folder, dir, $"{path}: member dir"));
            var a = run.Options.Autoencoder;
            members.Add((new SweepMember(a.Kind, a.ExpansionFactor, a.K), run));
        }
        return new Sweep(folder, members);
    }

    /// <summary>Writes <see cref="SweepFile"/>: every member's folder, kind, expansion factor and k,
    /// and its metrics from <paramref name="outcomes"/> when given.</summary>
    public void WriteTable(IReadOnlyList<SweepMemberOutcome>? outcomes)
    {
        var array = new JsonArray();
        for (int i = 0; i < Members.Count; i++)
        {
            var (member, run) = Members[i];
            var row = new JsonObject
            {
                ["dir"] = member.Dir, ["kind"] = member.Kind, ["expansion_factor"] = member.ExpansionFactor, ["k"] = member.K,
            };
            if (outcomes?[i] is { } outcome) SweepMetrics.Add(row, outcome);
            array.Add(row);
        }
        ResultJson.Write(Path.Combine(Folder, SweepFile), new JsonObject { ["members"] = array });
    }
}
