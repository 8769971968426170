using System.Net;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Providers;

/// <summary>
/// The candidates of a webhook-scaled Static pool, probed round by round through a stub of their <c>/health</c>: a
/// candidate is in the pool exactly while it is up, and one the controller scaled in stays out until it was seen down.
/// </summary>
public sealed class CandidateReplicaProviderTests : IAsyncDisposable
{
    private const string A = "http://10.0.1.1:8000";
    private const string B = "http://10.0.1.2:8000";

    private readonly FakeTimeProvider _time = new();
    private readonly HealthStub _health = new();
    private readonly Pool _pool;
    private readonly CandidateReplicaProvider _source;

    public CandidateReplicaProviderTests()
    {
        var cloud = Pool("cloud", 1, 2, A, B);
        _pool = Build(Options(Service(Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), cloud)), _time).Services[0].Cloud();
        _source = new CandidateReplicaProvider(
            _pool, cloud.Static, HealthPolicy.From(new HealthOptions()), new HttpClient(_health), _time, NullLogger<CandidateReplicaProvider>.Instance);
    }

    [Fact]
    public async Task StartAsync_CandidateThatAnswers_JoinsReady_OneThatDoesNotStaysOut()
    {
        _health.Up(A);

        await _source.StartAsync(CancellationToken.None);

        var replica = Assert.Single(_pool.Replicas);
        Assert.Equal((new Uri(A), ReplicaState.Ready), (replica.Address, replica.State));
        Assert.Equal(2, _health.Probes);
    }

    [Fact]
    public async Task ProbeAll_CandidateComesUpLater_JoinsThen()
    {
        await _source.ProbeAllAsync(CancellationToken.None);
        Assert.Empty(_pool.Replicas);

        _health.Up(B);
        await _source.ProbeAllAsync(CancellationToken.None);

        Assert.Equal([new Uri(B)], _pool.Replicas.Select(r => r.Address));
    }

    [Fact]
    public async Task ProbeAll_MemberTakenOutByHealthChecksThatStillDoesNotAnswer_Leaves()
    {
        _health.Up(A);
        await _source.ProbeAllAsync(CancellationToken.None);
        var replica = Assert.Single(_pool.Replicas);

        // Down, but the health checks have not taken it out yet: the source leaves it to them and does not probe it.
        _health.Down(A);
        var probes = _health.Probes;
        await _source.ProbeAllAsync(CancellationToken.None);
        Assert.Same(replica, Assert.Single(_pool.Replicas));
        Assert.Equal(probes + 1, _health.Probes);

        replica.SetHealthy(false);
        await _source.ProbeAllAsync(CancellationToken.None);

        Assert.Empty(_pool.Replicas);
        Assert.Equal(ReplicaState.Stopped, replica.State);
    }

    [Fact]
    public async Task ProbeAll_MemberTakenOutThatAnswersAgain_StaysForTheHealthChecksToBringBack()
    {
        _health.Up(A);
        await _source.ProbeAllAsync(CancellationToken.None);
        var replica = Assert.Single(_pool.Replicas);
        replica.SetHealthy(false);

        await _source.ProbeAllAsync(CancellationToken.None);

        Assert.Same(replica, Assert.Single(_pool.Replicas));
    }

    [Fact]
    public async Task Retire_CandidateStillAnswering_StaysOutUntilSeenDown_ThenJoinsWhenUpAgain()
    {
        _health.Up(A);
        await _source.ProbeAllAsync(CancellationToken.None);
        var replica = Assert.Single(_pool.Replicas);

        _source.Retire(replica);
        await _source.ProbeAllAsync(CancellationToken.None);
        Assert.Empty(_pool.Replicas);
        Assert.Equal(ReplicaState.Stopped, replica.State);

        _health.Down(A);
        await _source.ProbeAllAsync(CancellationToken.None);
        _health.Up(A);
        await _source.ProbeAllAsync(CancellationToken.None);

        var again = Assert.Single(_pool.Replicas);
        Assert.NotSame(replica, again);
        Assert.Equal(new Uri(A), again.Address);
    }

    [Fact]
    public async Task AllowRejoin_RetiredCandidateStillAnswering_JoinsAtTheNextProbe()
    {
        _health.Up(A);
        await _source.ProbeAllAsync(CancellationToken.None);
        _source.Retire(Assert.Single(_pool.Replicas));

        _source.AllowRejoin();
        await _source.ProbeAllAsync(CancellationToken.None);

        Assert.Equal([new Uri(A)], _pool.Replicas.Select(r => r.Address));
    }

    public async ValueTask DisposeAsync() => await _source.DisposeAsync();

    private sealed class HealthStub : HttpMessageHandler
    {
        private readonly HashSet<string> _up = [];
        private int _probes;

        public int Probes => Volatile.Read(ref _probes);

        public void Up(string address)
        {
            lock (_up)
            {
                _up.Add(new Uri(address).Authority);
            }
        }

        public void Down(string address)
        {
            lock (_up)
            {
                _up.Remove(new Uri(address).Authority);
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("/health", request.RequestUri!.AbsolutePath);
            Interlocked.Increment(ref _probes);
            lock (_up)
            {
                // A candidate that is down refuses the connection, as a stopped server does.
                return _up.Contains(request.RequestUri.Authority)
                    ? Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK))
                    : Task.FromException<HttpResponseMessage>(new HttpRequestException("Connection refused"));
            }
        }
    }
}
