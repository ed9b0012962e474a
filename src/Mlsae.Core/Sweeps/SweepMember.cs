namespace Mlsae.Sweeps;

/// <summary>One configuration of a sweep: a sparse coder kind, its expansion factor and k. Its run
/// folder is <c>&lt;sweep&gt;/&lt;kind&gt;-x&lt;expansion_factor&gt;-k&lt;k&gt;</c>, a normal run folder.</summary>
public sealed record SweepMember(string Kind, int ExpansionFactor, int K)
{
    /// <summary>The member's folder name inside the sweep folder.</summary>
    public string Dir => $"{Kind}-x{ExpansionFactor}-k{K}";
}
