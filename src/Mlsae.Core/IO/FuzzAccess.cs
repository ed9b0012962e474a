using System.Runtime.CompilerServices;

// The fuzz harness (bench/Mlsae.Fuzz) drives the libtorch-free parsers directly, e.g. a data.pkl
// without its zip (TorchStateDict), so that mutations are not all stopped by the zip's checks.
[assembly: InternalsVisibleTo("Mlsae.Fuzz")]
