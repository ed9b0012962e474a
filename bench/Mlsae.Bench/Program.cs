using System.Text.Json;
using Mlsae;
using Mlsae.Autoencoder;
using Mlsae.Bench;
using Mlsae.Tensors;

// Benchmarks, run on demand (JSON on stdout, progress on stderr):
//   dotnet run -c Release --project bench/Mlsae.Bench -- forward [--seq 2048] [--batch 1] [--repeats 3]
//   dotnet run -c Release --project bench/Mlsae.Bench -- sae-step [--vectors 4096] [--expansions 32,64] [--dtypes float32,bfloat16]
//       [--repeats 3] [--warmup 1] [--threads 2] [--straight-port] [--no-phases] [--python <path>] [--no-reference] [--blas-cache <dir>]
//   dotnet run -c Release --project bench/Mlsae.Bench -- train-pipeline [--seq 2048] [--batches 4] [--dtypes float32,bfloat16]
//       [--threads 2] [--straight-port] [--python <path>] [--no-reference] [--blas-cache <dir>]
//   dotnet run -c Release --project bench/Mlsae.Bench -- tokenizer [--tokenizer <dir|tokenizer.json>] [--chars 2000000]
// sae-step-config and train-pipeline-config are the child processes those two start, one per configuration.
var bench = new BenchArgs(args);
var indented = new JsonSerializerOptions { WriteIndented = true };
try
{
    switch (bench.Command)
    {
        case "forward":
            Print(ForwardBench.Run(bench.Int("--seq", 2048), bench.Int("--batch", 1), bench.Int("--repeats", 3)), indented);
            return 0;
        case "tokenizer":
            Print(TokenizerBench.Run(bench.String("--tokenizer", Path.Combine("..", "shared", "fixtures", "tokenizer")),
                bench.Int("--chars", 2000000), bench.Int("--repeats", 3)), indented);
            return 0;
        case "sae-step":
            Print(SaeStepBench.Run(bench), indented);
            return 0;
        case "train-pipeline":
            Print(TrainPipelineBench.Run(bench), indented);
            return 0;
        case "sae-step-config":
            TorchSharp.torch.set_num_threads(bench.Int("--threads", 2));
            Print(Child(() => SaeStepMeasurement.Run(bench.Int("--expansion", 32), DTypes.Parse(bench.String("--dtype", "float32")),
                bench.Switch("--half-dead"), Kernels(bench.String("--kernels", "sparse")), bench.Int("--vectors", 4096),
                bench.Int("--repeats", 3), bench.Int("--warmup", 1, min: 0)), e => new StepMeasurement { Error = e }), null);
            return 0;
        case "train-pipeline-config":
            TorchSharp.torch.set_num_threads(bench.Int("--threads", 2));
            int seq = bench.Int("--seq", 2048);
            var tokens = BenchTokens.Read(bench.Value("--tokens") ?? throw new MlsaeException("--tokens: required"), seq);
            Print(Child(() => TrainPipelineMeasurement.Run(tokens, DTypes.Parse(bench.String("--dtype", "float32")),
                Kernels(bench.String("--kernels", "sparse")), !bench.Switch("--no-breakdown")), e => new TrainPipelineMeasurement.Result { Error = e }), null);
            return 0;
        default:
            Console.Error.WriteLine($"unknown benchmark '{bench.Command}' (available: forward, sae-step, train-pipeline, tokenizer)");
            return 2;
    }
}
catch (MlsaeException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

static void Print<T>(T value, JsonSerializerOptions? options) => Console.WriteLine(JsonSerializer.Serialize(value, options));

static MlsaeKernels Kernels(string name) => name switch
{
    "sparse" => MlsaeKernels.Sparse,
    "dense" => MlsaeKernels.Dense,
    _ => throw new MlsaeException($"--kernels: expected sparse or dense, got '{name}'"),
};

// A configuration that fails at run time (say a dtype this CPU build cannot run) is a row with an
// error, not a failed bench; bad flags still fail the child.
static T Child<T>(Func<T> run, Func<string, T> failed)
{
    try { return run(); }
    catch (Exception e) when (e is not MlsaeException)
    {
        Console.Error.WriteLine($"failed: {e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}");
        return failed($"{e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}");
    }
}
