using Mlsae.Fuzz;
using SharpFuzz;

// Mlsae.Fuzz <target>                      run under afl-fuzz (input on stdin; see ../fuzz.sh)
// Mlsae.Fuzz replay <target> <file|dir>... run saved inputs once each, printing what each does
// Mlsae.Fuzz seeds <fixtures> <out>        write the seed corpus (from ../shared/fixtures and generated files)
// Mlsae.Fuzz list                          print the target names
if (args is ["list"])
{
    foreach (var name in FuzzTargets.All.Keys) Console.WriteLine(name);
    return 0;
}
if (args is ["seeds", var fixtures, var output])
{
    SeedCorpus.Write(fixtures, output);
    return 0;
}
if (args is ["replay", var replayTarget, .. var inputs] && FuzzTargets.All.TryGetValue(replayTarget, out var replay))
    return Replay.Run(replay, inputs);
if (args is [var target] && FuzzTargets.All.TryGetValue(target, out var run))
{
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        run(buffer.ToArray());
    });
    return 0;
}
Console.Error.WriteLine($"usage: Mlsae.Fuzz <{string.Join("|", FuzzTargets.All.Keys)}> | replay <target> <file|dir>... | seeds <fixtures> <out> | list");
return 2;
