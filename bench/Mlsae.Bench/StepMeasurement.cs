namespace Mlsae.Bench;

/// <summary>One timed SAE-step configuration as a child process reports it: ours
/// (<see cref="SaeStepMeasurement"/>) and the reference's (<c>bench/reference/sae_step.py</c>) print
/// the same field names. Times are of the fastest timed step; <see cref="Error"/> is set instead
/// when the configuration failed.</summary>
public sealed record StepMeasurement
{
    /// <summary>Vectors per second of the fastest step.</summary>
    public double VectorsPerSecond { get; init; }
    /// <summary>The fastest step, ms.</summary>
    public double StepMs { get; init; }
    /// <summary>Its forward and loss, ms.</summary>
    public double ForwardMs { get; init; }
    /// <summary>Its backward, ms.</summary>
    public double BackwardMs { get; init; }
    /// <summary>Its decoder renormalization, gradient projection and Adam, ms.</summary>
    public double UpdateMs { get; init; }
    /// <summary>The step's one unavoidable dense product, the encoder's [N, D]·[D, F] in the step's dtype, timed alone, ms.</summary>
    public double FloorMs { get; init; }
    /// <summary>Step time over <see cref="FloorMs"/>.</summary>
    public double FloorMultiple { get; init; }
    /// <summary>The loss of that step (a sanity check: both sides start near 0.6).</summary>
    public double Loss { get; init; }
    /// <summary>Fraction of latents under the dead mask in that step (≈0.5 with half dead).</summary>
    public double DeadFraction { get; init; }
    /// <summary>Resident memory after setup (inputs, SAE, optimizer), MiB.</summary>
    public double? SetupRssMiB { get; init; }
    /// <summary>Peak resident memory (VmHWM) over setup and the steps, MiB.</summary>
    public double? PeakRssMiB { get; init; }
    /// <summary>How a bfloat16 step's matmuls ran: <c>widened</c> (bfloat16 operands, float32 products:
    /// a CPU without native bfloat16 dot products) or <c>native</c>; null for float32 and the reference.</summary>
    public string? BFloat16Matmul { get; init; }
    /// <summary>Why the configuration produced no numbers, or null.</summary>
    public string? Error { get; init; }
}
