using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// One phase under way, as its fault sees it: the gateway it runs against, its pools, the load and its clock, the status
/// watch, and whether the gateway was told to stop (after which a refused connection means it is gone).
/// </summary>
internal sealed class PhaseRun(string phase, GatewayUnderTest gateway, ServiceLayout layout, ChaosSettings settings, ChaosLoad load, StatusWatch watch)
{
    public GatewayUnderTest Gateway => gateway;

    public ServiceLayout Layout => layout;

    public ChaosSettings Settings => settings;

    public ChaosLoad Load => load;

    public StatusWatch Watch => watch;

    /// <summary>The first pool of the on-prem tier (the lowest priority number): where the faults are injected.</summary>
    public string OnPremPool => layout.OnPrem.First().Name;

    /// <summary>Seconds since the load started.</summary>
    public double Now => load.Now;

    /// <summary>Set just before SIGTERM goes to the gateway: from then on a refused connection means it is gone.</summary>
    public bool GatewayStopping
    {
        get => load.GatewayStopping;
        set => load.GatewayStopping = value;
    }

    public void Log(string message) => Console.Error.WriteLine($"[chaos {phase}] {Math.Round(Now, 1):0.0} s: {message}");

    /// <summary>
    /// The on-prem replica to hurt: ready, with a process id, and with at least <paramref name="inFlight"/> requests on it
    /// if that comes within a few seconds (else whatever ready one there is, so a slow machine still gets its fault).
    /// </summary>
    public async Task<ReplicaView> OnPremReplicaAsync(int inFlight, CancellationToken cancellationToken)
    {
        bool Ready(ReplicaView r) => r.State == "ready" && r.Pid is not null;
        return await watch.WaitForAsync(OnPremPool, r => Ready(r) && r.InFlight >= inFlight, TimeSpan.FromSeconds(5), cancellationToken)
            ?? await watch.WaitForAsync(OnPremPool, Ready, TimeSpan.FromSeconds(30), cancellationToken)
            ?? throw new InvalidOperationException($"no ready on-prem replica with a process id in pool {OnPremPool}");
    }
}
