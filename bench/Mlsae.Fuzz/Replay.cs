namespace Mlsae.Fuzz;

/// <summary>Runs saved inputs (crashes, hangs, seeds) through a target outside afl-fuzz, printing
/// for each whether it loaded, failed with the expected <see cref="MlsaeException"/> (and its
/// message), or crashed (with the input in base64 and the stack trace).</summary>
public static class Replay
{
    /// <summary>Returns 1 if any input crashed, else 0.</summary>
    public static unsafe int Run(Action<byte[]> target, IEnumerable<string> inputs)
    {
        // An instrumented Mlsae.Core.dll records coverage in SharpFuzz's map; outside afl-fuzz
        // nothing allocates it, so give it one (65,536 bytes, AFL's map size) or every branch faults.
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
        int crashes = 0;
        var files = inputs.SelectMany<string, string>(p => Directory.Exists(p)
            ? Directory.EnumerateFiles(p).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            : [p]);
        // The targets swallow MlsaeException; first-chance notifications still show its messages.
        var messages = new List<string>();
        AppDomain.CurrentDomain.FirstChanceException += (_, e) =>
        {
            if (e.Exception is MlsaeException m) messages.Add(m.Message);
        };
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            messages.Clear();
            try
            {
                target(bytes);
                var said = messages.Count == 0 ? "loads" : string.Join(" | ", messages.Distinct());
                Console.WriteLine($"{file}: ok ({bytes.Length} bytes): {said}");
            }
            catch (Exception e)
            {
                crashes++;
                Console.WriteLine($"{file}: CRASH ({bytes.Length} bytes, base64 {Convert.ToBase64String(bytes[..Math.Min(bytes.Length, 4096)])})");
                Console.WriteLine(e.ToString());
            }
        }
        return crashes > 0 ? 1 : 0;
    }
}
