using Mlsae.Embedded;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Embedded;

public class BpeTrainerTests
{
    [Fact]
    public void TrainedTokenizerHasGptNeoXLayoutAndRoundTripsText()
    {
        var docs = new SyntheticCorpus(1).Documents().Take(300).ToList();
        var result = BpeTrainer.Train(docs, vocabSize: 400);
        Assert.Equal(400, result.Vocab.Count);
        Assert.Equal(["<|endoftext|>", "<|padding|>"], result.Vocab.Take(2));
        Assert.Equal(400 - 258, result.Merges.Count);
        var dir = Fixtures.TempDir();
        BpeTrainer.Save(result, dir, "test", 256);
        var tok = Tokenizer.Load(dir);
        Assert.Equal(0, tok.TokenToId("<|endoftext|>"));
        foreach (var text in docs.Take(20).Append("unseen ünïcödé 🙂 text <|endoftext|> and\ttabs"))
        {
            var ids = tok.Encode(text);
            Assert.Equal(text, tok.Decode(ids));
        }
        // Frequent words became single tokens; the first merge is the most frequent pair.
        Assert.Single(tok.Encode(" the"));
        Assert.True(tok.Encode(docs[0]).Count < docs[0].Length / 2, "BPE should compress the corpus");
        // Deterministic.
        Assert.Equal(result.Merges, BpeTrainer.Train(docs, 400).Merges);
    }

    [Fact]
    public void TooSmallAVocabularyIsAnError()
    {
        Assert.Contains("--vocab-size must be at least 258", Assert.Throws<MlsaeException>(() => BpeTrainer.Train(["a"], 100)).Message);
        Assert.Contains("holds no text", Assert.Throws<MlsaeException>(() => BpeTrainer.Train([], 300)).Message);
    }
}
