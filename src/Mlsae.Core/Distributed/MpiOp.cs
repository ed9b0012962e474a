namespace Mlsae.Distributed;

/// <summary>A reduction of an allreduce.</summary>
public enum MpiOp
{
    /// <summary>Elementwise sum.</summary>
    Sum,
    /// <summary>Elementwise maximum.</summary>
    Max,
    /// <summary>Elementwise minimum.</summary>
    Min,
}
