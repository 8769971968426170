using System.Diagnostics;
using Gateway.LoadTests.Targets;
using Gateway.Testing;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// The fresh gateway of one phase: the given configuration with <c>Auth:Mode</c> <c>ApiKeys</c> and the phase's tenants
/// (their key hashes only), started on free ports and stopped at the phase's end; its service's pools, its
/// <c>/metrics</c>, and the phase's clock.
/// </summary>
internal sealed class TenantGateway : IAsyncDisposable
{
    private readonly GatewayUnderTest _gateway;
    private readonly HttpClient _admin;
    private readonly string _label;

    private TenantGateway(GatewayUnderTest gateway, ServiceLayout layout, string label)
    {
        _gateway = gateway;
        Layout = layout;
        _label = label;
        _admin = LoadClient.Create(TimeSpan.FromSeconds(10));
        _admin.BaseAddress = gateway.AdminAddress;
        Origin = Stopwatch.GetTimestamp();
    }

    public Uri PublicAddress => _gateway.PublicAddress;

    public ServiceLayout Layout { get; }

    /// <summary>The phase's clock: a <see cref="Stopwatch"/> timestamp taken when the gateway was ready.</summary>
    public long Origin { get; }

    /// <summary>Seconds on the phase's clock.</summary>
    public double Now => Stopwatch.GetElapsedTime(Origin).TotalSeconds;

    /// <summary>Starts the gateway of <paramref name="configPath"/> with <paramref name="tenants"/> and <paramref name="overrides"/>, and waits until it is ready.</summary>
    public static async Task<TenantGateway> StartAsync(
        string phase, string configPath, IReadOnlyList<DrillTenant> tenants, IEnumerable<string> overrides, string host, CancellationToken cancellationToken)
    {
        var label = $"[tenants {phase}]";
        List<string> all = ["--Gateway:Auth:Mode=ApiKeys", .. tenants.SelectMany((t, i) => t.Overrides(i)), .. overrides];
        Console.Error.WriteLine($"{label} starting the gateway");
        var gateway = await GatewayUnderTest.StartAsync(configPath, all, cancellationToken);
        try
        {
            Console.Error.WriteLine($"{label} gateway pid {gateway.Process!.Id} on {gateway.PublicAddress}");
            var layout = await ServiceLayout.ReadAsync(gateway.AdminAddress!, host, cancellationToken);
            return new TenantGateway(gateway, layout, label);
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    public void Log(string message) => Console.Error.WriteLine($"{_label} {Now,6:0.0} s {message}");

    /// <summary>One scrape of the gateway's <c>/metrics</c>, timed on the phase's clock.</summary>
    public async Task<MetricsSample> ScrapeAsync(CancellationToken cancellationToken) =>
        new(Now, MetricsText.Parse(await _admin.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken)));

    /// <summary>What each pool of the service answered between <paramref name="before"/> and <paramref name="after"/>.</summary>
    public SortedDictionary<string, PoolTally> Tally(MetricsSample before, MetricsSample after)
    {
        var service = Layout.Service;
        var tally = new SortedDictionary<string, PoolTally>(StringComparer.Ordinal);
        foreach (var pool in Layout.Pools)
        {
            double Delta(string metric, params (string, string?)[] labels)
            {
                (string, string?)[] all = [("service", service), ("pool", pool.Name), .. labels];
                return after.Sum(metric, all) - before.Sum(metric, all);
            }

            tally[pool.Name] = new PoolTally(
                (long)Delta("gateway_requests_total"),
                (long)Delta("gateway_requests_total", ("code", "200")),
                (long)Delta("gateway_tokens_total", ("kind", "completion")));
        }

        return tally;
    }

    /// <summary>How much each reason of <c>gateway_rejected_total</c> of the service grew between the two scrapes.</summary>
    public SortedDictionary<string, long> Rejected(MetricsSample before, MetricsSample after)
    {
        var rejected = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var key in after.Values.Keys)
        {
            const string Reason = "reason=\"";
            var at = key.IndexOf(Reason, StringComparison.Ordinal);
            if (!key.StartsWith("gateway_rejected_total{", StringComparison.Ordinal) || at < 0)
            {
                continue;
            }

            var reason = key[(at + Reason.Length)..key.IndexOf('"', at + Reason.Length)];
            var grew = (long)(after.Sum("gateway_rejected_total", ("service", Layout.Service), ("reason", reason)) - before.Sum("gateway_rejected_total", ("service", Layout.Service), ("reason", reason)));
            if (grew != 0)
            {
                rejected[reason] = grew;
            }
        }

        return rejected;
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await _gateway.DisposeAsync();
    }
}

/// <summary>What one pool answered over a phase, from the gateway's counters: every answer, the 200s, and their completion tokens.</summary>
internal sealed record PoolTally(long Answers, long Ok, long CompletionTokens);
