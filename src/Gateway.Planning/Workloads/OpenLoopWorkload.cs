namespace Gateway.Planning;

/// <summary>Requests that arrive at fixed offsets whatever the gateway answers: a recorded log or a generated arrival process.</summary>
internal sealed record OpenLoopWorkload : Workload
{
    /// <summary>A workload of <paramref name="requests"/>, which must be sorted by <see cref="TraceRequest.ArrivalOffset"/>.</summary>
    /// <exception cref="ArgumentException">An arrival is negative or earlier than the one before it.</exception>
    public OpenLoopWorkload(IReadOnlyList<TraceRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        for (var i = 0; i < requests.Count; i++)
        {
            var at = requests[i].ArrivalOffset;
            if (at < TimeSpan.Zero || (i > 0 && at < requests[i - 1].ArrivalOffset))
            {
                throw new ArgumentException($"request {i} arrives at {at}, before the start or the request before it: the requests must be sorted by arrival", nameof(requests));
            }
        }

        Requests = requests;
    }

    /// <summary>The requests in order of arrival.</summary>
    public IReadOnlyList<TraceRequest> Requests { get; }

    /// <summary>The last request's arrival; zero with none.</summary>
    public override TimeSpan Duration => Requests.Count == 0 ? TimeSpan.Zero : Requests[^1].ArrivalOffset;
}
