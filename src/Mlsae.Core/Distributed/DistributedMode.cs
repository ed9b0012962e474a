namespace Mlsae.Distributed;

/// <summary>Whether a command spreads its work over MPI ranks (<c>--distributed</c>).</summary>
public enum DistributedMode
{
    /// <summary>Over MPI when an MPI launcher started the process, else one process (the default).</summary>
    Auto,
    /// <summary>Over MPI always (a process started alone is a world of one).</summary>
    Mpi,
    /// <summary>One process, whatever started it.</summary>
    None,
}

/// <summary>Parsing <c>--distributed</c>.</summary>
public static class DistributedModes
{
    /// <summary><c>auto</c>, <c>mpi</c> or <c>none</c>; anything else is an error naming the flag.</summary>
    public static DistributedMode Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => DistributedMode.Auto,
        "mpi" => DistributedMode.Mpi,
        "none" => DistributedMode.None,
        _ => throw new MlsaeException($"--distributed: expected mpi, none or auto, got '{text}'"),
    };
}
