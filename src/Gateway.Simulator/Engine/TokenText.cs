using System.Text;

namespace Gateway.Simulator.Engine;

/// <summary>
/// The simulator's stand-in for a tokenizer and a model: prompts are counted in word-like tokens, and
/// answers are words drawn deterministically from the request's seed, one word per token.
/// </summary>
internal static class TokenText
{
    private static readonly byte[][] Words = Encode(
        "the", "model", "answers", "with", "simulated", "tokens", "from", "a", "replica", "that", "serves",
        "requests", "in", "batches", "of", "sequences", "and", "each", "word", "is", "one", "token", "so",
        "counts", "match", "usage", "on", "prem", "cloud", "capacity", "queue", "stream", "gateway", "fast",
        "cache", "block", "prefill", "decode", "latency", "first", "next", "under", "load", "spill", "over",
        "ready", "healthy", "busy", "quiet", "peak", "scale", "out", "in", "drain", "sample", "text", "here",
        "more", "less", "still", "again", "then", "now", "done");

    /// <summary>Counts tokens: each run of letters or digits is one token, each other visible character one more.</summary>
    public static int CountTokens(string text)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (!inWord)
                {
                    count++;
                    inWord = true;
                }
            }
            else
            {
                inWord = false;
                if (!char.IsWhiteSpace(c))
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>The UTF-8 text of generated token <paramref name="index"/> of a request: a space and a word.</summary>
    public static ReadOnlySpan<byte> Token(ulong requestSeed, int index) =>
        Words[(int)(Mix(requestSeed + (ulong)index) % (ulong)Words.Length)];

    /// <summary>A per-request seed from the simulator's seed and the request's number.</summary>
    public static ulong RequestSeed(int seed, long requestNumber) => Mix(((ulong)(uint)seed << 32) ^ (ulong)requestNumber);

    /// <summary>SplitMix64's finaliser: a cheap, well-spread hash so a word needs no Random instance.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private static byte[][] Encode(params string[] words) =>
        words.Select(w => Encoding.UTF8.GetBytes(" " + w)).ToArray();
}
