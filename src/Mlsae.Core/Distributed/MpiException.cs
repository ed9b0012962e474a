namespace Mlsae.Distributed;

/// <summary>An MPI call failed, or the launch and the library disagree (one line naming the call and
/// the library's own error string). Under several ranks the CLI turns it into an abort of the job.</summary>
public sealed class MpiException(string message) : MlsaeException(message);
