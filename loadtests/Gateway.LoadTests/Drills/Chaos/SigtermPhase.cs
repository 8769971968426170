using System.Globalization;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// <c>sigterm</c>: SIGTERM to the gateway under streaming load, as a rolling update does. It drains: streams in flight
/// finish, or end with the <c>shutting_down</c> error event once the drain timeout is over; requests arriving meanwhile
/// get a clean 503 <c>shutting_down</c>; then it stops listening and exits. A connection refused after that is counted
/// apart (nothing was accepted), and the client that met it stops. The drain timeout is lowered and some streams made
/// longer than the demo's, so that both endings of an in-flight stream can happen.
/// </summary>
internal sealed class SigtermPhase : ChaosPhase
{
    /// <summary>About 3 to 5 s a stream at the demo's pace, under load.</summary>
    public const int StreamTokens = 100;

    /// <summary>The drain timeout of this phase's gateway, shorter than the longest streams in flight at the signal.</summary>
    public const double DrainTimeoutSeconds = 2;

    public override string Name => "sigterm";

    /// <summary>Even clients send long streams, in flight through the drain; odd ones the seed's short ones, which keep arriving during it.</summary>
    public override ClientPlan Client(int index) => index % 2 == 0 ? new(Streamed: true, StreamTokens) : ClientPlan.Stream;

    public override string LoadNote => string.Create(CultureInfo.InvariantCulture,
        $"streamed only: long streams (max_tokens {StreamTokens}, 3 to 5 s) in flight through the drain, whose timeout is lowered to {DrainTimeoutSeconds} s so that some outlast it, and the seed's short ones, which keep arriving during it");

    public override Task<PhaseSetup> SetUpAsync(string configPath, ChaosSettings settings, bool isShort, CancellationToken cancellationToken) =>
        Task.FromResult(new PhaseSetup(configPath, [string.Create(CultureInfo.InvariantCulture, $"--Gateway:DrainTimeoutSeconds={DrainTimeoutSeconds}")]));

    public override async Task<Injection> InjectAsync(PhaseRun run, CancellationToken cancellationToken)
    {
        var gateway = run.Gateway.Process ?? throw new InvalidOperationException("sigterm needs a gateway the drill started");
        run.GatewayStopping = true;
        var at = run.Now;
        if (!await gateway.SignalAsync("TERM"))
        {
            throw new InvalidOperationException($"could not signal the gateway (pid {gateway.Id})");
        }

        run.Log($"SIGTERM to the gateway (pid {gateway.Id})");
        var exitCode = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(DrainTimeoutSeconds + 60)).WaitAsync(cancellationToken);
        var exitedAt = run.Now;
        run.Log($"the gateway exited with {exitCode}");
        return new Injection(
            string.Create(CultureInfo.InvariantCulture, $"SIGTERM to the gateway (drain timeout {DrainTimeoutSeconds} s)"),
            Math.Round(at, 3),
            Math.Round(exitedAt, 3),
            new Dictionary<string, object?>
            {
                ["gatewayPid"] = gateway.Id,
                ["exitCode"] = exitCode,
                ["exitedAfterSeconds"] = Math.Round(exitedAt - at, 3),
                ["drainTimeoutSeconds"] = DrainTimeoutSeconds,
            });
    }
}
