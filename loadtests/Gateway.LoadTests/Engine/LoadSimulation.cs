namespace Gateway.LoadTests.Engine;

/// <summary>How a scenario is driven, after NBomber's load simulations of the same names.</summary>
internal abstract record LoadSimulation(TimeSpan During)
{
    /// <summary>A closed loop: <paramref name="Copies"/> clients, each sending its next request when its last is answered.</summary>
    public sealed record KeepConstant(int Copies, TimeSpan During) : LoadSimulation(During)
    {
        public override string ToString() => $"keep constant {Copies} for {During.TotalSeconds:0.#} s";
    }

    /// <summary>An open loop: <paramref name="Rate"/> requests started per second, whether earlier ones are answered or not.</summary>
    public sealed record Inject(int Rate, TimeSpan During) : LoadSimulation(During)
    {
        public override string ToString() => $"inject {Rate}/s for {During.TotalSeconds:0.#} s";
    }

    /// <summary><paramref name="Copies"/> clients that send <paramref name="Iterations"/> requests between them, all at once: a burst.</summary>
    public sealed record IterationsForConstant(int Copies, int Iterations) : LoadSimulation(TimeSpan.Zero)
    {
        public override string ToString() => $"{Iterations} requests from {Copies} clients";
    }
}
