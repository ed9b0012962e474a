namespace Mlsae.Tokenization;

/// <summary>Byte-level BPE: merges applied by rank (lowest first, leftmost among equal ranks) with
/// a heap over a linked list of symbols, so long words stay O(n log n).</summary>
public sealed class BpeModel
{
    readonly Dictionary<string, int> vocab;
    readonly string[] tokens;
    readonly Dictionary<long, (int Rank, int Merged)> merges;
    readonly Dictionary<string, int[]> cache = new();
    readonly object cacheLock = new();
    readonly string source;
    const int CacheCapacity = 100_000;

    /// <summary>Builds the model; the vocab's ids are 0..n-1, each once; merges are pairs of vocab
    /// strings in rank order. <paramref name="source"/> names the file in errors.</summary>
    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B)> mergeList, string source)
    {
        this.vocab = vocab;
        this.source = source;
        tokens = new string[vocab.Count];
        foreach (var (s, id) in vocab)
        {
            if (id < 0 || id >= tokens.Length || tokens[id] is not null)
                throw new MlsaeException($"{source}: \"model.vocab\" entry {JsonAt.Quote(s)} has id {id}, not one of 0..{tokens.Length - 1} used once");
            tokens[id] = s;
        }
        merges = new Dictionary<long, (int, int)>(mergeList.Count);
        for (int rank = 0; rank < mergeList.Count; rank++)
        {
            var (a, b) = mergeList[rank];
            if (!vocab.TryGetValue(a, out int ia) || !vocab.TryGetValue(b, out int ib))
                throw new MlsaeException($"{source}: \"model.merges[{rank}]\" {JsonAt.Quote(a + " " + b)} uses a token missing from the vocab");
            if (!vocab.TryGetValue(a + b, out int merged))
                throw new MlsaeException($"{source}: \"model.merges[{rank}]\" {JsonAt.Quote(a + " " + b)} produces {JsonAt.Quote(a + b)}, which is missing from the vocab");
            merges.TryAdd(Key(ia, ib), (rank, merged));
        }
    }

    static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>The vocab string of an id, or null.</summary>
    public string? Token(int id) => id >= 0 && id < tokens.Length ? tokens[id] : null;

    /// <summary>The id of a vocab string, or null.</summary>
    public int? Id(string token) => vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>Number of vocab entries.</summary>
    public int Count => vocab.Count;

    /// <summary>The ids of one pre-tokenized word in byte-level characters.</summary>
    public int[] Encode(string word)
    {
        lock (cacheLock)
            if (cache.TryGetValue(word, out var hit)) return hit;
        var result = Merge(word);
        if (word.Length < 256)
            lock (cacheLock)
            {
                if (cache.Count >= CacheCapacity) cache.Clear();
                cache[word] = result;
            }
        return result;
    }

    int[] Merge(string word)
    {
        int n = word.Length;
        var ids = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (!vocab.TryGetValue(word[i].ToString(), out ids[i]))
                throw new MlsaeException($"{source}: byte symbol '{word[i]}' is missing from the vocab");
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Heap of (rank, position, left id, right id); stale entries are skipped when popped.
        var heap = new PriorityQueue<(int Pos, int Left, int Right), (int Rank, int Pos)>();
        void Push(int pos)
        {
            int nx = next[pos];
            if (nx < 0) return;
            if (merges.TryGetValue(Key(ids[pos], ids[nx]), out var m)) heap.Enqueue((pos, ids[pos], ids[nx]), (m.Rank, pos));
        }
        for (int i = 0; i + 1 < n; i++) Push(i);
        var alive = new bool[n];
        Array.Fill(alive, true);
        while (heap.TryDequeue(out var item, out _))
        {
            int pos = item.Pos, nx = next[pos];
            if (!alive[pos] || nx < 0 || ids[pos] != item.Left || ids[nx] != item.Right) continue;
            ids[pos] = merges[Key(item.Left, item.Right)].Merged;
            alive[nx] = false;
            next[pos] = next[nx];
            if (next[nx] >= 0) prev[next[nx]] = pos;
            if (prev[pos] >= 0) Push(prev[pos]);
            Push(pos);
        }
        var result = new List<int>();
        for (int i = 0; i >= 0; i = next[i]) result.Add(ids[i]);
        return result.ToArray();
    }
}
