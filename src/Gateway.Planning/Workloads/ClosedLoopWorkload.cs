namespace Gateway.Planning;

/// <summary>
/// <see cref="Clients"/> clients that each send <see cref="Template"/>, wait for its answer to end, wait
/// <see cref="ThinkTime"/> more, and send it again, from the start until <see cref="Duration"/> has passed (as
/// <c>hey -c N -z D</c> does): a request is not sent after the duration, and the ones under way then are answered.
/// </summary>
internal sealed record ClosedLoopWorkload : Workload
{
    /// <summary>A closed loop of <paramref name="clients"/> clients sending <paramref name="template"/> for <paramref name="duration"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one client, a duration that is not positive or a negative think time.</exception>
    public ClosedLoopWorkload(int clients, TimeSpan duration, TraceRequest template, TimeSpan thinkTime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clients, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentOutOfRangeException.ThrowIfLessThan(thinkTime, TimeSpan.Zero);
        Clients = clients;
        Duration = duration;
        Template = template;
        ThinkTime = thinkTime;
    }

    /// <summary>How many clients send at once.</summary>
    public int Clients { get; }

    /// <summary>How long the clients keep sending.</summary>
    public override TimeSpan Duration { get; }

    /// <summary>What each client sends; its <see cref="TraceRequest.ArrivalOffset"/> is zero and the engine stamps the real one.</summary>
    public TraceRequest Template { get; }

    /// <summary>How long a client waits between an answer's end and its next request (zero for the seed's <c>hey</c>).</summary>
    public TimeSpan ThinkTime { get; }
}
