using Gateway.Requests;
using Gateway.Configuration;

namespace Gateway.Planning;

/// <summary>
/// The sizes of an open-loop generator's requests. Prompts are log-normal, as measured prompt lengths roughly are:
/// <c>round(median × e^(sigma × Z))</c> for a standard normal <c>Z</c>, clamped to [1, <see cref="PromptMax"/>].
/// <c>max_tokens</c> is drawn uniformly from <see cref="MaxTokensChoices"/>, and the replica generates exactly that
/// many, as the simulator does when <c>max_tokens</c> is given. A share of requests is streamed.
/// </summary>
/// <param name="PromptMedian">The median prompt, in tokens.</param>
/// <param name="PromptSigma">The spread of the prompt's logarithm; 0 gives every prompt the median.</param>
/// <param name="PromptMax">The longest prompt.</param>
/// <param name="MaxTokensChoices">The <c>max_tokens</c> values drawn from, each as likely.</param>
/// <param name="StreamShare">The share of requests streamed, 0 to 1.</param>
internal sealed record TokenShape(int PromptMedian, double PromptSigma, int PromptMax, IReadOnlyList<int> MaxTokensChoices, double StreamShare)
{
    /// <summary>
    /// The keys and defaults: <c>prompt_median=150</c>, <c>prompt_sigma=1</c>, <c>prompt_max=4096</c>,
    /// <c>max_tokens=16/32/64</c>, <c>stream_share=0</c>. A chat prompt of a hundred or so tokens with a long tail, and
    /// answers of tens of tokens (37 on average, about 1.3 s at the demo's 30 ms a token); 4096 leaves room for the
    /// answer within the demo's <c>--max-model-len 6144</c>.
    /// </summary>
    public static TokenShape From(SyntheticSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var promptMax = spec.Int("prompt_max", 4096, 1);
        return new TokenShape(
            spec.Int("prompt_median", 150, 1, promptMax),
            spec.Double("prompt_sigma", 1.0, 0, 5),
            promptMax,
            spec.Ints("max_tokens", [16, 32, 64], 1),
            spec.Double("stream_share", 0, 0, 1));
    }

    /// <summary>A request arriving at <paramref name="at"/> for the first service, anonymous and of the standard class, its sizes drawn from <paramref name="random"/>.</summary>
    public TraceRequest Draw(Random random, TimeSpan at)
    {
        ArgumentNullException.ThrowIfNull(random);
        var prompt = Math.Round(PromptMedian * Math.Exp(PromptSigma * StandardNormal(random)));
        var maxTokens = MaxTokensChoices[random.Next(MaxTokensChoices.Count)];
        var stream = random.NextDouble() < StreamShare;
        return new TraceRequest(at, null, null, PriorityClass.Standard, RequestKind.Chat, (int)Math.Clamp(prompt, 1, PromptMax), maxTokens, maxTokens, stream);
    }

    // Box–Muller; 1 − U keeps the logarithm's argument in (0, 1].
    private static double StandardNormal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
