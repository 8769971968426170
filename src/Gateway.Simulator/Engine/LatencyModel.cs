using Gateway.Simulator.Options;

namespace Gateway.Simulator.Engine;

/// <summary>
/// How long a simulated replica takes: time to first token grows with the prompt (prefill), and both it and
/// the inter-token latency grow with the batch, from 1x with one sequence to <c>--time-factor-under-load</c>
/// with <c>--max-num-seqs</c> sequences running.
/// </summary>
internal sealed class LatencyModel(SimulatorOptions options)
{
    /// <summary>Whether any latency is configured; with none, requests never wait on a timer.</summary>
    public bool IsZero { get; } = options.TimeToFirstTokenMs == 0 && options.PrefillTimePerTokenMs == 0 && options.InterTokenLatencyMs == 0;

    /// <summary>Time from a sequence starting to its first token.</summary>
    public TimeSpan TimeToFirstToken(int promptTokens, int running) =>
        TimeSpan.FromMilliseconds((options.TimeToFirstTokenMs + (options.PrefillTimePerTokenMs * promptTokens)) * LoadFactor(running));

    /// <summary>Time between two generated tokens with <paramref name="running"/> sequences in the batch.</summary>
    public TimeSpan InterTokenLatency(int running) =>
        TimeSpan.FromMilliseconds(options.InterTokenLatencyMs * LoadFactor(running));

    /// <summary>1 with one sequence running, the configured factor with a full batch, linear between.</summary>
    public double LoadFactor(int running)
    {
        if (options.MaxNumSeqs <= 1 || running <= 1)
        {
            return 1.0;
        }

        var fill = Math.Min(1.0, (running - 1) / (double)(options.MaxNumSeqs - 1));
        return 1.0 + ((options.TimeFactorUnderLoad - 1.0) * fill);
    }
}
