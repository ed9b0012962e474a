using System.Text.Json;
using Mlsae.Bench;

// Benchmarks, run on demand:
//   dotnet run -c Release --project bench/Mlsae.Bench -- forward [--seq 2048] [--batch 1] [--repeats 3]
//   dotnet run -c Release --project bench/Mlsae.Bench -- sae-step [--vectors 4096] [--repeats 3] [--expansions 32,64]
//   dotnet run -c Release --project bench/Mlsae.Bench -- train-pipeline [--seq 2048] [--batches 4]
//   dotnet run -c Release --project bench/Mlsae.Bench -- tokenizer [--tokenizer <dir|tokenizer.json>] [--chars 2000000]
var arguments = args.Length == 0 ? ["forward"] : args;
string Arg(string name, string fallback)
{
    int i = Array.IndexOf(arguments, name);
    return i >= 0 && i + 1 < arguments.Length ? arguments[i + 1] : fallback;
}
switch (arguments[0])
{
    case "forward":
        var result = ForwardBench.Run(int.Parse(Arg("--seq", "2048")), int.Parse(Arg("--batch", "1")), int.Parse(Arg("--repeats", "3")));
        Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    case "tokenizer":
        var tok = TokenizerBench.Run(Arg("--tokenizer", Path.Combine("..", "shared", "fixtures", "tokenizer")),
            int.Parse(Arg("--chars", "2000000")), int.Parse(Arg("--repeats", "3")));
        Console.WriteLine(JsonSerializer.Serialize(tok, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    case "sae-step":
        var step = SaeStepBench.Run(int.Parse(Arg("--vectors", "4096")), int.Parse(Arg("--repeats", "3")),
            Arg("--expansions", "32,64").Split(',').Select(int.Parse).ToArray());
        Console.WriteLine(JsonSerializer.Serialize(step, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    case "train-pipeline":
        var pipeline = TrainPipelineBench.Run(int.Parse(Arg("--seq", "2048")), int.Parse(Arg("--batches", "4")));
        Console.WriteLine(JsonSerializer.Serialize(pipeline, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    default:
        Console.Error.WriteLine($"unknown benchmark '{arguments[0]}' (available: forward, sae-step, train-pipeline, tokenizer)");
        return 2;
}
