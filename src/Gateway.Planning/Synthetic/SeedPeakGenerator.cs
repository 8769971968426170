using Gateway.Requests;
using Gateway.Configuration;

namespace Gateway.Planning;

/// <summary>
/// <c>seed-peak</c>: the seed's drill, <c>hey -z 2m -c 5</c> with the demo's request, as the peak drill of
/// <c>loadtests/Gateway.LoadTests</c> runs it: a closed loop of 5 clients for 2 minutes, each sending again the moment
/// its answer ends. Keys and defaults: <c>clients=5</c>, <c>minutes=2</c>, <c>stream=false</c>, <c>think_ms=0</c>.
/// </summary>
/// <remarks>
/// The request is <c>ChatRequest.SeedBody</c> of the load tests: one user message <c>"Hello"</c>, <c>max_tokens</c> 10,
/// not streamed unless the drill runs with <c>--stream</c>.
/// <list type="bullet">
/// <item><see cref="PromptTokens"/>: counted as the simulator counts a chat prompt (<c>CompletionRequest</c> and
/// <c>TokenText.CountTokens</c> of <c>Gateway.Simulator</c>): 3 before the answer, 4 per message, and 1 for the one
/// word of <c>"Hello"</c>: 3 + 4 + 1 = 8.</item>
/// <item><see cref="MaxTokens"/>: the body's <c>max_tokens</c>. Given it, the simulator generates exactly that many
/// tokens (it stops on the length, never earlier), so the completion is 10 tokens too.</item>
/// <item>Clients and duration: <c>PeakSettings</c> of the drill (<c>--concurrency</c> 5, <c>--duration</c> 2 minutes),
/// the seed's <c>hey -c 5 -z 2m</c>; <c>hey</c> waits for nothing between requests, hence no think time.</item>
/// </list>
/// The drill's 5-second warm-up with one client is left out: it is under on-prem's capacity and starts no scaling.
/// </remarks>
internal sealed class SeedPeakGenerator : ISyntheticGenerator
{
    /// <summary>Tokens of the demo's prompt as the simulator counts them.</summary>
    public const int PromptTokens = 8;

    /// <summary>The demo's <c>max_tokens</c>, and so its completion's length.</summary>
    public const int MaxTokens = 10;

    /// <inheritdoc />
    public string Name => "seed-peak";

    /// <inheritdoc />
    public string Help => "the seed's drill, a closed loop sending the demo's request (8 prompt tokens, max_tokens 10): clients=5, minutes=2, stream=false, think_ms=0";

    /// <inheritdoc />
    public Workload Create(SyntheticSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var clients = spec.Int("clients", 5, 1, 100_000);
        var duration = SyntheticTrace.DurationSeconds(spec, 2);
        var stream = spec.Bool("stream", false);
        var think = spec.Double("think_ms", 0, 0);
        spec.EnsureAllRead();

        var request = new TraceRequest(TimeSpan.Zero, null, null, PriorityClass.Standard, RequestKind.Chat, PromptTokens, MaxTokens, MaxTokens, stream);
        return new ClosedLoopWorkload(clients, TimeSpan.FromSeconds(duration), request, TimeSpan.FromMilliseconds(think));
    }
}
