using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Load;
using Gateway.Model;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Load;

/// <summary>The scrape loops on a fake clock, against a fake replica answering <c>/metrics</c>.</summary>
public sealed class LoadScraperTests(ITestOutputHelper output) : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeReplicas _replicas = new();
    private readonly RecordingLogger<LoadScraper> _logger = new(output);
    private LoadScraper? _scraper;

    private const string Busy = "vllm:num_requests_running{model_name=\"qwen\"} 3\nvllm:num_requests_waiting{model_name=\"qwen\"} 0\nvllm:kv_cache_usage_perc{model_name=\"qwen\"} 0.25\n";

    private GatewayOptions _options = null!;
    private GatewayTopology _topology = null!;

    /// <summary>A service with an on-prem and a cloud pool, no replicas yet.</summary>
    private InferenceService TwoPools(LoadOptions onPremLoad, LoadOptions? cloudLoad = null)
    {
        var onPrem = Pool("on-prem", 0, 4, "http://10.0.0.1:8000");
        onPrem.Load = onPremLoad;
        var cloud = Pool("cloud", 1, 4, "http://10.0.1.1:8000");
        cloud.Load = cloudLoad ?? new LoadOptions();
        _options = Options(Service(onPrem, cloud));
        _topology = Build(_options, _time);
        return _topology.Services[0];
    }

    private async Task StartAsync()
    {
        _scraper = new LoadScraper(_topology, _replicas, _time, _logger);
        await _scraper.StartAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_scraper is not null)
        {
            await _scraper.StopAsync(CancellationToken.None);
            _scraper.Dispose();
        }
    }

    /// <summary>Moves the clock one interval on once the replica has been scraped <paramref name="scrapes"/> times, and waits for the next scrape.</summary>
    private async Task NextScrapeAsync(string address, int scrapes)
    {
        await Eventually.WaitAsync(() => Task.FromResult(_replicas.Count(address)), n => n >= scrapes, Deadline, $"scrape {scrapes} of {address}");
        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.WaitAsync(() => Task.FromResult(_replicas.Count(address)), n => n >= scrapes + 1, Deadline, $"scrape {scrapes + 1} of {address}");
    }

    [Fact]
    public async Task Scrape_ReadyReplica_SetsItsLoadFromMetrics()
    {
        var service = TwoPools(new LoadOptions());
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        _replicas.Answer("10.0.0.1:8000", Busy);

        await StartAsync();

        var load = await Eventually.WaitAsync(() => Task.FromResult(replica.Load), l => l is not null, Deadline, "a load");
        Assert.Equal(new ReplicaLoad(3, 0, 0.25, OthersInFlight: 3, Saturated: false, _time.GetTimestamp()), load);
        Assert.Equal("http://10.0.0.1:8000/metrics", _replicas.Requests.First().Uri.ToString());
        Assert.Equal("text/plain; version=0.0.4", _replicas.Requests.First().Accept);
    }

    [Fact]
    public async Task Scrape_EveryInterval_FollowsTheReplica()
    {
        var service = TwoPools(new LoadOptions());
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        _replicas.Answer("10.0.0.1:8000", Busy);
        await StartAsync();
        await Eventually.WaitAsync(() => Task.FromResult(replica.Load), l => l is not null, Deadline, "the first load");

        _replicas.Answer("10.0.0.1:8000", "vllm:num_requests_running 4\nvllm:num_requests_waiting 2\nvllm:kv_cache_usage_perc 0.5\n");
        await NextScrapeAsync("10.0.0.1:8000", 1);

        var load = await Eventually.WaitAsync(() => Task.FromResult(replica.Load), l => l?.Waiting == 2, Deadline, "the second load");
        Assert.Equal(new ReplicaLoad(4, 2, 0.5, OthersInFlight: 6, Saturated: true, _time.GetTimestamp()), load);
        Assert.False(replica.IsAvailable);
    }

    [Fact]
    public async Task Scrape_FailingReplica_KeepsFiguresForThreeIntervalsThenFallsBackToLocalCounts()
    {
        var service = TwoPools(new LoadOptions { WhenStale = StaleLoadPolicy.LocalCounts });
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        _replicas.Answer("10.0.0.1:8000", Busy);
        await StartAsync();
        var fresh = await Eventually.WaitAsync(() => Task.FromResult(replica.Load), l => l is not null, Deadline, "a load");
        _replicas.Refuse("10.0.0.1:8000");

        for (var scrape = 1; scrape <= 3; scrape++)
        {
            await NextScrapeAsync("10.0.0.1:8000", scrape);
            await Eventually.WaitAsync(() => Task.FromResult(_logger.Entries.Count(e => e.EventId == 3201)), n => n >= scrape, Deadline, "the failure logged");
            Assert.Same(fresh, replica.Load);
        }

        await NextScrapeAsync("10.0.0.1:8000", 4);
        await Eventually.WaitAsync(() => Task.FromResult(replica.Load), l => l is null, Deadline, "the load to be forgotten");
        await Eventually.WaitAsync(() => Task.FromResult(_logger.Entries.Count(e => e.EventId == 3202)), n => n == 1, Deadline, "staleness logged");
        Assert.Equal(4, _logger.Entries.Count(e => e.EventId == 3201));
        var stale = Assert.Single(_logger.Entries, e => e.EventId == 3202);
        Assert.Equal(LogLevel.Warning, stale.Level);
        Assert.Equal("The load figures of replica on-prem-1 are stale (no good scrape for 3 s); placement now follows LocalCounts", stale.Message);

        _replicas.Answer("10.0.0.1:8000", Busy);
        await NextScrapeAsync("10.0.0.1:8000", 5);
        await Eventually.WaitAsync(() => Task.FromResult(replica.Load), l => l is not null, Deadline, "fresh figures");
        await Eventually.WaitAsync(() => Task.FromResult(_logger.Entries.Count(e => e.EventId == 3203)), n => n == 1, Deadline, "fresh again logged");
    }

    [Fact]
    public async Task Scrape_AnswerWithoutVllmCounts_CountsAsFailedAndSaturatesUnderThatPolicy()
    {
        var service = TwoPools(new LoadOptions { WhenStale = StaleLoadPolicy.Saturated, StaleAfterIntervals = 1 });
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        _replicas.Answer("10.0.0.1:8000", "# HELP up Whether the target is up.\nup 1\n");
        await StartAsync();

        await NextScrapeAsync("10.0.0.1:8000", 1);
        await NextScrapeAsync("10.0.0.1:8000", 2);

        var load = await Eventually.WaitAsync(() => Task.FromResult(replica.Load), l => l is not null, Deadline, "the replica to count as full");
        Assert.True(load!.Saturated);
        Assert.False(replica.IsAvailable);
        Assert.Contains(_logger.Entries, e => e.EventId == 3201 && e.Message.EndsWith("failed: the answer has no vllm:num_requests_running or vllm:num_requests_waiting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scrape_ErrorStatus_CountsAsFailed()
    {
        var service = TwoPools(new LoadOptions());
        Add(service.OnPrem(), "http://10.0.0.1:8000");
        _replicas.Answer("10.0.0.1:8000", "not found", HttpStatusCode.NotFound);
        await StartAsync();

        var failure = await Eventually.WaitAsync(() => Task.FromResult(_logger.Entries.FirstOrDefault(e => e.EventId == 3201)), e => e is not null, Deadline, "a failure");

        Assert.Equal("Scraping the load of replica on-prem-1 failed: status 404", failure!.Message);
    }

    [Fact]
    public async Task Scrape_ReplicaNotReady_IsLeftAloneUntilItIs()
    {
        var service = TwoPools(new LoadOptions());
        var ready = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var provisioning = Add(service.OnPrem(), "http://10.0.0.2:8000", ReplicaState.Provisioning);
        _replicas.Answer("10.0.0.1:8000", Busy);
        _replicas.Answer("10.0.0.2:8000", Busy);
        await StartAsync();

        await NextScrapeAsync("10.0.0.1:8000", 1);
        await NextScrapeAsync("10.0.0.1:8000", 2);
        Assert.Equal(0, _replicas.Count("10.0.0.2:8000"));
        Assert.Null(provisioning.Load);
        Assert.NotNull(ready.Load);

        provisioning.SetState(ReplicaState.Ready);
        await NextScrapeAsync("10.0.0.1:8000", 3);
        await Eventually.WaitAsync(() => Task.FromResult(provisioning.Load), l => l is not null, Deadline, "the new replica's load");
    }

    [Fact]
    public async Task Scrape_ReplicaJoiningLater_IsScrapedToo()
    {
        var service = TwoPools(new LoadOptions());
        Add(service.OnPrem(), "http://10.0.0.1:8000");
        _replicas.Answer("10.0.0.1:8000", Busy);
        _replicas.Answer("10.0.1.1:8000", Busy);
        await StartAsync();
        await Eventually.WaitAsync(() => Task.FromResult(_replicas.Count("10.0.0.1:8000")), n => n >= 1, Deadline, "the first scrape");

        var joined = Add(service.Cloud(), "http://10.0.1.1:8000");
        await NextScrapeAsync("10.0.0.1:8000", 1);
        await NextScrapeAsync("10.0.0.1:8000", 2);

        await Eventually.WaitAsync(() => Task.FromResult(joined.Load), l => l is not null, Deadline, "the joined replica's load");
    }

    [Fact]
    public async Task Scrape_DisabledPool_IsNeverScraped()
    {
        var service = TwoPools(new LoadOptions(), cloudLoad: new LoadOptions { Enabled = false });
        Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        _replicas.Answer("10.0.0.1:8000", Busy);
        _replicas.Answer("10.0.1.1:8000", Busy);
        await StartAsync();

        await NextScrapeAsync("10.0.0.1:8000", 1);
        await NextScrapeAsync("10.0.0.1:8000", 2);

        Assert.Equal(0, _replicas.Count("10.0.1.1:8000"));
        Assert.Null(cloud.Load);
    }

    [Fact]
    public async Task Stop_EndsEveryLoop()
    {
        var service = TwoPools(new LoadOptions());
        Add(service.OnPrem(), "http://10.0.0.1:8000");
        _replicas.Answer("10.0.0.1:8000", Busy);
        await StartAsync();
        await Eventually.WaitAsync(() => Task.FromResult(_replicas.Count("10.0.0.1:8000")), n => n >= 1, Deadline, "the first scrape");

        await _scraper!.StopAsync(CancellationToken.None).WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.True(_scraper.ExecuteTask!.IsCompletedSuccessfully);
        Assert.Equal(1, _replicas.Count("10.0.0.1:8000"));
    }

    [Fact]
    public async Task Scrape_ReplicaAcceptsButNeverAnswers_TimesOutWithinTheInterval()
    {
        // The real client, resilience pipeline and clock, against a socket that accepts and stays silent.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new ConcurrentBag<Socket>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await silent.AcceptSocketAsync());
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The listener stopped.
            }
        });
        var address = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        var service = TwoPools(new LoadOptions { ScrapeIntervalSeconds = 0.25 });
        var replica = Add(service.OnPrem(), address);
        await using var provider = new ServiceCollection().AddLogging().AddLoadScraping().BuildServiceProvider();
        _scraper = new LoadScraper(_topology, provider.GetRequiredService<IHttpClientFactory>(), TimeProvider.System, _logger);

        await _scraper.StartAsync(CancellationToken.None);

        var failure = await Eventually.WaitAsync(
            () => Task.FromResult(_logger.Entries.FirstOrDefault(e => e.EventId == 3201)), e => e is not null, Deadline, "a timed-out scrape");
        Assert.Equal("Scraping the load of replica on-prem-1 failed: no answer within 0.25 s", failure!.Message);
        Assert.DoesNotContain(_logger.Entries, e => e.EventId == 3204);
        Assert.Null(replica.Load);
        await _scraper.StopAsync(CancellationToken.None);
        silent.Stop();
        await accepting;
        foreach (var socket in accepted)
        {
            socket.Dispose();
        }
    }

    /// <summary>Replicas by authority, each answering <c>/metrics</c> with a fixed text, a status, or a refused connection.</summary>
    private sealed class FakeReplicas : HttpMessageHandler, IHttpClientFactory
    {
        private readonly ConcurrentDictionary<string, Func<HttpResponseMessage>> _answers = new();

        public ConcurrentQueue<(Uri Uri, string Accept)> Requests { get; } = new();

        public void Answer(string authority, string text, HttpStatusCode status = HttpStatusCode.OK) =>
            _answers[authority] = () => new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "text/plain") };

        public void Refuse(string authority) =>
            _answers[authority] = () => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (" + authority + ")");

        public int Count(string authority) => Requests.Count(r => r.Uri.Authority == authority);

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Enqueue((request.RequestUri!, request.Headers.Accept.ToString()));
            return Task.FromResult(_answers[request.RequestUri!.Authority]());
        }
    }
}
