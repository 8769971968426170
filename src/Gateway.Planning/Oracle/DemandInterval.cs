namespace Gateway.Planning;

/// <summary>
/// When one request occupies a slot of a fleet with unlimited capacity ready at once: from its arrival to its answer's
/// end, in seconds from the trace's start. Half open: a request ending at <c>t</c> frees its slot for one starting at <c>t</c>.
/// </summary>
/// <param name="Start">Its arrival, in seconds.</param>
/// <param name="End">Its answer's end, in seconds; not before <paramref name="Start"/>.</param>
internal readonly record struct DemandInterval(double Start, double End);
