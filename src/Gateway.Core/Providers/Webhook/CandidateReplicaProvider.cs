using Gateway.Health;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>
/// The Static addresses of a pool scaled by a webhook: places where the webhook's receiver may start a replica, not
/// replicas. A candidate joins the pool, ready, once its <c>/health</c> answers 200, and leaves when it is taken out
/// by the health checks and still does not answer, or when the scale controller scaled it in. So the pool holds the
/// replicas that are really up, and the controller counts those.
/// </summary>
/// <remarks>
/// <para>
/// One loop probes every candidate that is not in the pool each probe interval (the pool's
/// <c>Health:ProbeIntervalSeconds</c>, with its probe timeout), and each member the health checks have taken out.
/// Members that serve are left to the <see cref="ReplicaHealthMonitor"/>, as in any pool.
/// </para>
/// <para>
/// A candidate the controller scaled in may go on answering until its receiver has stopped it; it does not join again
/// until it has been seen down once, or until the pool is scaled out again (then whatever is up counts).
/// </para>
/// </remarks>
internal sealed partial class CandidateReplicaProvider : IReplicaProvider, IAsyncDisposable
{
    private readonly Pool _pool;
    private readonly Candidate[] _candidates;
    private readonly HealthPolicy _policy;
    private readonly HttpClient _probeClient;
    private readonly TimeProvider _time;
    private readonly ILogger<CandidateReplicaProvider> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly WebhookPoolScaler? _scaler;
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    /// <summary>
    /// Candidates at <paramref name="addresses"/>, started and stopped by the receiver of <paramref name="scaler"/>'s
    /// webhook; a scale-out lets candidates scaled in earlier join again.
    /// </summary>
    public CandidateReplicaProvider(
        Pool pool,
        IReadOnlyList<string> addresses,
        HealthPolicy policy,
        HttpClient probeClient,
        TimeProvider time,
        ILogger<CandidateReplicaProvider> logger,
        WebhookPoolScaler? scaler = null)
    {
        _scaler = scaler;
        if (scaler is not null)
        {
            scaler.ScalingOut += AllowRejoin;
        }

        _pool = pool;
        _candidates = new Candidate[addresses.Count];
        for (var i = 0; i < _candidates.Length; i++)
        {
            _candidates[i] = new Candidate(new Uri(addresses[i]));
        }

        _policy = policy;
        _probeClient = probeClient;
        _time = time;
        _logger = logger;
    }

    public Pool Pool => _pool;

    /// <summary>The webhook that starts and stops the candidates' servers.</summary>
    public IPoolScaler? Scaler => _scaler;

    /// <summary>Probes every candidate once, so those already up are in the pool when the gateway starts, then keeps probing in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ProbeAllAsync(cancellationToken);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops probing. The replicas are the receiver's: nothing is stopped here.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Takes <paramref name="replica"/> out of the pool for good: the controller scaled it in. Its address stays out
    /// until it has been seen down, or until <see cref="AllowRejoin"/>.
    /// </summary>
    public void Retire(Replica replica)
    {
        lock (_lock)
        {
            foreach (var candidate in _candidates)
            {
                if (ReferenceEquals(candidate.Member, replica))
                {
                    candidate.Member = null;
                    candidate.Retired = true;
                }
            }
        }

        _pool.RemoveReplica(replica);
    }

    /// <summary>The pool is being scaled out: candidates scaled in earlier may join again as soon as they answer.</summary>
    public void AllowRejoin()
    {
        lock (_lock)
        {
            foreach (var candidate in _candidates)
            {
                candidate.Retired = false;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_policy.ProbeInterval, _time, stopping);
                await ProbeAllAsync(stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The gateway stops.
        }
    }

    /// <summary>Probes each candidate that is out and each member the health checks took out, all at once.</summary>
    internal async Task ProbeAllAsync(CancellationToken stopping)
    {
        var probes = new List<Task>(_candidates.Length);
        foreach (var candidate in _candidates)
        {
            probes.Add(ProbeAsync(candidate, stopping));
        }

        await Task.WhenAll(probes);
    }

    private async Task ProbeAsync(Candidate candidate, CancellationToken stopping)
    {
        var member = candidate.Member;
        if (member is not null && (member.IsHealthy || member.State != ReplicaState.Ready))
        {
            // Serving (the health monitor watches it), or draining (the controller removes it).
            return;
        }

        var up = await HealthProbe.AnswersAsync(_probeClient, candidate.Health, _policy.ProbeTimeout, _time, stopping);
        Replica? joined = null;
        Replica? left = null;
        lock (_lock)
        {
            if (!ReferenceEquals(candidate.Member, member))
            {
                // Retired while the probe ran: the controller's word wins.
                return;
            }

            if (member is not null)
            {
                if (!up)
                {
                    candidate.Member = null;
                    left = member;
                }
            }
            else if (!up)
            {
                candidate.Retired = false;
            }
            else if (!candidate.Retired)
            {
                joined = candidate.Member = _pool.AddReplica(candidate.Address, ReplicaState.Ready);
            }
        }

        if (left is not null)
        {
            _pool.RemoveReplica(left);
            LogLeft(_logger, left.Id, left.DestinationPrefix, left.Health.Failures);
        }

        if (joined is not null)
        {
            LogJoined(_logger, joined.Id, joined.DestinationPrefix);
        }
    }

    /// <summary>One address: the replica it is in the pool as (null: out), and whether it was scaled in and not yet seen down.</summary>
    private sealed class Candidate(Uri address)
    {
        public Uri Address { get; } = address;

        /// <summary>Its <c>/health</c>, built once rather than every probe interval.</summary>
        public Uri Health { get; } = new(address, "health");

        public Replica? Member
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }

        public bool Retired { get; set; }
    }

    [LoggerMessage(EventId = 3130, Level = LogLevel.Information, Message = "Replica {ReplicaId} at {Address} answers its health check and joins the pool")]
    private static partial void LogJoined(ILogger logger, string replicaId, string address);

    [LoggerMessage(EventId = 3131, Level = LogLevel.Warning,
        Message = "Replica {ReplicaId} at {Address} leaves the pool: taken out after {Failures} failures and its health check still does not answer")]
    private static partial void LogLeft(ILogger logger, string replicaId, string address, int failures);
}
