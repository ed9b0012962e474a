namespace Mlsae.Distributed;

/// <summary>The two MPI families whose ABIs the binding knows. Intel MPI and MVAPICH share MPICH's.</summary>
public enum MpiImplementation
{
    /// <summary>Open MPI: handles are the addresses of exported globals (<c>ompi_mpi_comm_world</c>).</summary>
    OpenMpi,
    /// <summary>MPICH and its ABI family: handles are 32-bit integer constants.</summary>
    Mpich,
}
