using Mlsae.Data;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Activations;

/// <summary>Runs a language model over token sequences in batches and gathers the residual stream of
/// chosen layers (and optionally logits and loss), as <c>mlsae activations</c> exports them.</summary>
public static class ActivationsExporter
{
    /// <summary>Runs the export. <paramref name="progress"/> receives the number of sequences done. With a
    /// <paramref name="hook"/> (a tuned lens) the hidden states are the hooked ones, zeroed in the hook's order.</summary>
    public static ActivationsResult Run(ILanguageModel model, IReadOnlyList<long[]> sequences, IReadOnlyList<int> layers,
        SpecialTokens? zeroSpecial, bool logits, int batchSize, Action<int>? progress = null, IResidualHook? hook = null)
    {
        var stream = new ResidualStream(model, layers, zeroSpecial, hook);
        foreach (var seq in sequences)   // checked before any forward pass, so a bad id fails at once
            foreach (var id in seq)
                if (id >= model.Config.VocabSize)
                    throw new MlsaeException($"input: token id {id} is out of range for vocab_size {model.Config.VocabSize}");
        var hidden = new List<Tensor>();
        var logitParts = new List<Tensor>();
        double lossSum = 0;
        long predictions = 0;
        try
        {
            using var _ = inference_mode();
            int done = 0;
            foreach (var batch in BatchSource.InMemory(sequences, batchSize)(null))
            {
                using var scope = NewDisposeScope();
                var tokens = batch.ToTensor(model.Config.VocabSize, model.Device);                         // [B, T]
                using var output = model.Forward(tokens, layers, logits);
                var h = stream.Map(output.HiddenStates, tokens);                                         // [L, B, T, D] float32
                hidden.Add(h.cpu().MoveToOuterDisposeScope());
                if (logits)
                {
                    var loss = ILanguageModel.NextTokenLoss(output.Logits!, tokens);
                    long n = batch.Size * (batch.Sequences[0].Length - 1L);
                    lossSum += loss.item<float>() * (double)n;
                    predictions += n;
                    logitParts.Add(output.Logits!.to(ScalarType.Float32).cpu().MoveToOuterDisposeScope());
                }
                progress?.Invoke(done += batch.Size);
            }
            var all = cat(hidden, 1);
            var allLogits = logits ? cat(logitParts, 0) : null;
            var meanLoss = logits ? tensor(predictions > 0 ? (float)(lossSum / predictions) : float.NaN) : null;
            return new ActivationsResult(all, allLogits, meanLoss, layers.ToArray());
        }
        finally
        {
            foreach (var t in hidden) t.Dispose();
            foreach (var t in logitParts) t.Dispose();
        }
    }
}
