using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlsae.Sweeps;

/// <summary>
/// The members of a sweep: every combination of comma-separated kinds, expansion factors and k, or
/// the members a JSON config names (<c>{"members": [{"kind", "expansion_factor", "k"}, …]}</c>).
/// In the list form a crosscoder's k is the list's k times the number of layers, so that it keeps as
/// many active codes per token as an MLSAE or a per-layer SAE with that k keeps over all the layers
/// (the issue's "crosscoder k 96" beside k 16 on 6 layers); a config's k is taken as written.
/// </summary>
public static class SweepPlan
{
    /// <summary>The kinds a sweep may name.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["mlsae", "per-layer", "crosscoder"];

    /// <summary>The members of the comma lists, in the order kind, expansion factor, k.</summary>
    public static IReadOnlyList<SweepMember> FromLists(string kinds, string expansionFactors, string ks, int layers)
    {
        var kindList = Split(kinds, "--kind").Select(k => CheckKind(k, "--kind")).ToList();
        var factors = Split(expansionFactors, "--expansion-factor").Select(v => Positive(v, "--expansion-factor")).ToList();
        var kList = Split(ks, "-k").Select(v => Positive(v, "-k")).ToList();
        var members = (from kind in kindList from factor in factors from k in kList
                       select new SweepMember(kind, factor, kind == "crosscoder" ? checked(k * layers) : k)).ToList();
        return Distinct(members, "--kind/--expansion-factor/-k");
    }

    /// <summary>The members a JSON config file names.</summary>
    public static IReadOnlyList<SweepMember> FromConfig(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"--config: {path} not found");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: malformed JSON", e); }
        if (root is not JsonObject o || o["members"] is not JsonArray array || array.Count == 0)
            throw new MlsaeException($"{path}: expected {{\"members\": [{{\"kind\", \"expansion_factor\", \"k\"}}, …]}} with at least one member");
        var members = new List<SweepMember>();
        for (int i = 0; i < array.Count; i++)
        {
            string where = $"{path}: members[{i}]";
            if (array[i] is not JsonObject m) throw new MlsaeException($"{where}: expected an object");
            foreach (var (key, _) in m)
                if (key is not ("kind" or "expansion_factor" or "k")) throw new MlsaeException($"{where}: unknown key \"{key}\" (a member names kind, expansion_factor and k)");
            members.Add(new SweepMember(
                CheckKind(Field<string>(m, "kind", where), $"{where}.kind"),
                (int)Positive(Field<long>(m, "expansion_factor", where), $"{where}.expansion_factor"),
                (int)Positive(Field<long>(m, "k", where), $"{where}.k")));
        }
        return Distinct(members, path);
    }

    static T Field<T>(JsonObject o, string key, string where) =>
        o[key] is JsonValue v && v.TryGetValue<T>(out var value) ? value
            : throw new MlsaeException($"{where}: \"{key}\" must be {(typeof(T) == typeof(string) ? "a string" : "an integer")}");

    static IReadOnlyList<SweepMember> Distinct(List<SweepMember> members, string source)
    {
        var repeated = members.GroupBy(m => m.Dir).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw new MlsaeException($"{source}: the member {repeated.Key} is named twice");
        return members;
    }

    static IEnumerable<string> Split(string list, string flag)
    {
        var items = list.Split(',', StringSplitOptions.TrimEntries);
        if (items.Any(string.IsNullOrEmpty)) throw new MlsaeException($"{flag}: '{list}' has an empty item (expected a comma-separated list)");
        return items;
    }

    static string CheckKind(string kind, string where) => Kinds.Contains(kind) ? kind
        : throw new MlsaeException($"{where}: unknown kind '{kind}' (one of {string.Join(", ", Kinds)})");

    static int Positive(string value, string flag) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new MlsaeException($"{flag}: '{value}' is not a positive integer");

    static long Positive(long value, string where) => value is > 0 and <= int.MaxValue ? value
        : throw new MlsaeException($"{where}: {value} is not a positive integer");
}
