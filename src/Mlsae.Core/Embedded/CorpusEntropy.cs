namespace Mlsae.Embedded;

/// <summary>
/// Plug-in unigram entropy H(X) and bigram conditional entropy H(X_t | X_{t−1}) of a token
/// stream, in nats per token — the baselines a language model's loss must beat. Estimated from
/// counts on the stream itself, so they are, if anything, optimistic for the n-gram models.
/// </summary>
public sealed class CorpusEntropy(int vocab)
{
    readonly long[] unigrams = new long[vocab];
    readonly Dictionary<long, long> bigrams = new();
    long tokens, pairs;

    /// <summary>Adds one sequence (pairs do not cross sequences).</summary>
    public void Add(IReadOnlyList<long> sequence)
    {
        for (int i = 0; i < sequence.Count; i++)
        {
            unigrams[sequence[i]]++;
            tokens++;
            if (i == 0) continue;
            long key = sequence[i - 1] * vocab + sequence[i];
            bigrams[key] = bigrams.GetValueOrDefault(key) + 1;
            pairs++;
        }
    }

    /// <summary>Tokens counted.</summary>
    public long Tokens => tokens;

    /// <summary>H(X) in nats.</summary>
    public double Unigram => -unigrams.Where(c => c > 0).Sum(c => c / (double)tokens * Math.Log(c / (double)tokens));

    /// <summary>H(X_t | X_{t−1}) in nats.</summary>
    public double Bigram
    {
        get
        {
            var previous = new long[vocab];
            foreach (var (key, count) in bigrams) previous[key / vocab] += count;
            return -bigrams.Sum(kv => kv.Value / (double)pairs * Math.Log(kv.Value / (double)previous[kv.Key / vocab]));
        }
    }
}
