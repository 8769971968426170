namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// What every phase of a chaos run shares, defaults filled in: the clients, the phase's time line (steady load, the
/// fault's window, a recovery window, in seconds), each request's deadline, and how often <c>/admin/status</c> is read.
/// </summary>
internal sealed record ChaosSettings(
    int Clients,
    string Host,
    string Body,
    double SteadySeconds,
    double FaultSeconds,
    double RecoverySeconds,
    double ClientDeadlineSeconds,
    double StatusIntervalSeconds,
    double RetryAfterCapSeconds)
{
    /// <summary>
    /// A request's deadline at the client: the demo queue's 30 s <c>MaxWaitSeconds</c> plus 30 s for a placement again and
    /// the answer. A request without a whole answer by then is lost.
    /// </summary>
    public const double DeadlineSeconds = 60;

    public TimeSpan Steady => TimeSpan.FromSeconds(SteadySeconds);

    public TimeSpan Fault => TimeSpan.FromSeconds(FaultSeconds);

    public TimeSpan Recovery => TimeSpan.FromSeconds(RecoverySeconds);

    public TimeSpan ClientDeadline => TimeSpan.FromSeconds(ClientDeadlineSeconds);

    public TimeSpan StatusInterval => TimeSpan.FromSeconds(StatusIntervalSeconds);

    /// <summary>
    /// Full: 8 s of steady load (the demo's cloud boots in 5 s), a 10 s fault, 10 s to recover. Short: 3 s, 4 s and 3 s,
    /// the cloud booting in 1 s.
    /// </summary>
    public static ChaosSettings From(DrillOptions options) => new(
        options.Concurrency ?? 5,
        options.Host ?? PeakDrill.DefaultHost,
        options.Body ?? Targets.ChatRequest.SeedBody,
        options.Short ? 3 : 8,
        options.Short ? 4 : 10,
        options.Short ? 3 : 10,
        DeadlineSeconds,
        options.Short ? 0.25 : 0.5,
        ChaosLoad.MaxRetryAfter.TotalSeconds);
}
