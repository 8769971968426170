using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Telemetry;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// An operator opens <c>/dashboard</c> in a real browser (Debian's headless Chromium) while traffic flows:
/// four long streams fill the on-prem replica, two clients keep sending short requests that overflow to the
/// cloud replica, each followed by a malformed one the gateway answers itself (<c>pool="none"</c>). The page
/// must show both pools and their replicas with exact load, the split of the requests it saw being served
/// (all cloud: on-prem is full; the rejected ones are not "served" anywhere), time to first token, and a
/// scale-out on its time line. A screenshot of the page is kept as a test artifact.
/// </summary>
public sealed class DashboardShowsPoolsWhileTrafficFlows(ITestOutputHelper output)
{
    private const int Width = 1600;
    private const int Height = 1000;

    // What the page shows, read from its DOM: the data attributes its script writes beside the visible text.
    private const string ReadPage = """
        JSON.stringify({
          state: document.body.dataset.state,
          refreshes: Number(document.body.dataset.refreshes),
          services: Array.from(document.querySelectorAll('section[data-service]'), e => e.dataset.service),
          pools: Array.from(document.querySelectorAll('article[data-pool]'), e => ({ ...e.dataset, ...e.querySelector('.cost')?.dataset, text: e.querySelector('.pool-load .big').innerText })),
          replicas: Array.from(document.querySelectorAll('li[data-replica]'), e => ({ ...e.dataset, text: e.querySelector('.load').innerText })),
          metrics: Object.fromEntries(Array.from(document.querySelectorAll('[data-metric]'), e => [e.dataset.metric, { ...e.dataset, text: e.querySelector('.v').innerText }])),
          scaleEvents: Array.from(document.querySelectorAll('li[data-scale-event]'), e => ({ ...e.dataset, text: e.innerText })),
        })
        """;

    // What a page opened after the traffic shows of the past: its charts' points and first time, the share, and the tenants.
    private const string ReadHistoryAndTenants = """
        JSON.stringify({
          state: document.body.dataset.state,
          refreshes: Number(document.body.dataset.refreshes),
          charts: Array.from(document.querySelectorAll('[data-chart] .plot'), e => ({
            chart: e.closest('[data-chart]').dataset.chart, points: Number(e.dataset.points), first: Number(e.dataset.first) })),
          share: { ...document.querySelector('[data-metric="on-prem-share"]')?.dataset },
          tenants: Array.from(document.querySelectorAll('tr[data-tenant]'), e => ({ ...e.dataset, uses: Array.from(e.querySelectorAll('[data-use]'), u => u.dataset.use) })),
        })
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    private static string Artifacts => Path.Combine(AppContext.BaseDirectory, "TestResults");

    [Fact]
    public async Task FullOnPremAndCloudOverflow_ShowLoadSplitTimingsAndScaleEvents()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [
                ["--max-num-seqs", "4", "--inter-token-latency", "20"],
                ["--max-num-seqs", "4", "--inter-token-latency", "20"],
            ],
            sims => new()
            {
                Services =
                [
                    GatewayFixture.QwenChat(
                        GatewayFixture.Pool("on-prem", 0, 4, sims[0]),
                        Priced(GatewayFixture.Pool("cloud", 1, 4, sims[1]), perReplicaHour: 3.6)),
                ],
            });

        // 3,000 tokens at 20 ms: the four hold every on-prem slot for a minute, longer than the test.
        var held = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 3000)));
        using var stop = new CancellationTokenSource();
        using var http = gateway.CreatePublicClient();
        var traffic = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => SendUntilStoppedAsync(http, stop.Token)));
        try
        {
            await using var browser = await HeadlessChromium.OpenAsync(new Uri(gateway.AdminAddress, "dashboard"), Width, Height);
            await Eventually.WaitAsync(() => browser.EvaluateAsync(ReadPage), json => Parse(json).Refreshes >= 1, TimeSpan.FromSeconds(30),
                "the dashboard's first refresh");

            // A scale controller's decision, as the one to come will count it.
            gateway.Services.GetRequiredService<GatewayMetrics>().ScaleEvent("qwen-chat", "cloud", "out");
            var json = await Eventually.WaitAsync(
                () => browser.EvaluateAsync(ReadPage),
                json => Parse(json) is { ScaleEvents.Length: 1, Refreshes: >= 6 } page && page.Metrics["on-prem-share"].Requests is not (null or "0") &&
                    page.Metrics["ttft-p50"].Seconds is not null,
                TimeSpan.FromSeconds(30),
                "the dashboard showing the split, TTFT and the scale-out");
            var screenshot = Path.Combine(Artifacts, "dashboard.png");
            await browser.ScreenshotAsync(screenshot);
            await File.WriteAllTextAsync(Path.Combine(Artifacts, "dashboard.html"), await browser.EvaluateAsync("document.documentElement.outerHTML"));
            output.WriteLine($"dashboard screenshot: {screenshot}");

            var page = Parse(json);
            Assert.Equal("live", page.State);
            Assert.Equal(["qwen-chat"], page.Services);

            Assert.Equal(["on-prem", "cloud"], page.Pools.Select(p => p.Pool));
            var onPrem = page.Pools[0];
            Assert.Equal(("on-prem", "0", "4", "4", "4 / 4"), (onPrem.Tier, onPrem.Priority, onPrem.InFlight, onPrem.Capacity, onPrem.Text));
            Assert.Equal(("1", "0", "0", "0", "1", "1"), (onPrem.Ready, onPrem.Provisioning, onPrem.Draining, onPrem.Unhealthy, onPrem.Desired, onPrem.Max));
            var cloud = page.Pools[1];
            Assert.Equal(("cloud", "1", "4"), (cloud.Tier, cloud.Priority, cloud.Capacity));
            Assert.InRange(int.Parse(cloud.InFlight, CultureInfo.InvariantCulture), 0, 2);
            Assert.Equal($"{cloud.InFlight} / 4", cloud.Text);
            Assert.Equal(("1", "0", "0", "0", "1", "1"), (cloud.Ready, cloud.Provisioning, cloud.Draining, cloud.Unhealthy, cloud.Desired, cloud.Max));

            // Its one ready replica at 3.6 an hour, counted every second since the start; the unpriced on-prem costs nothing.
            Assert.Equal(("0", "3.6"), (onPrem.CostPerHour, cloud.CostPerHour));
            Assert.True(double.Parse(cloud.ReplicaSeconds!, CultureInfo.InvariantCulture) >= 1, $"cloud replica-seconds {cloud.ReplicaSeconds}");
            Assert.Equal(("3.6", "3.60"), (page.Metrics["cost-per-hour"].Value, page.Metrics["cost-per-hour"].Text));
            Assert.False(page.Metrics.ContainsKey("budget"));

            Assert.Equal(["on-prem-1", "cloud-1"], page.Replicas.Select(r => r.Replica));
            Assert.Equal(("ready", "true", "4", "4", "4 / 4"), Describe(page.Replicas[0]));
            Assert.Equal(("ready", "true", cloud.InFlight, "4", $"{cloud.InFlight} / 4"), Describe(page.Replicas[1]));

            Assert.Equal(("0", "0"), (page.Metrics["queue-depth"].Value, page.Metrics["queue-depth"].Text));
            Assert.InRange(int.Parse(page.Metrics["demand"].Value!, CultureInfo.InvariantCulture), 4, 6);
            Assert.Equal(($"{4 + int.Parse(cloud.InFlight, CultureInfo.InvariantCulture)}", "8"), (page.Metrics["in-flight"].Value, page.Metrics["in-flight"].Capacity));

            // Every request served while the page watched went to the cloud; the malformed ones are not counted.
            var split = page.Metrics["on-prem-share"];
            Assert.Equal(("0", "0%"), (split.OnPrem, split.Text));
            Assert.Equal(split.Requests, split.Cloud);
            Assert.True(int.Parse(split.Requests!, CultureInfo.InvariantCulture) > 0);

            // Five tokens 20 ms apart, timed at the plain answer's first byte: at least 80 ms, so the median sits in or
            // above the 50-100 ms bucket; the tail moves with the machine's load, the median barely.
            var p50 = double.Parse(page.Metrics["ttft-p50"].Seconds!, CultureInfo.InvariantCulture);
            var p99 = double.Parse(page.Metrics["ttft-p99"].Seconds!, CultureInfo.InvariantCulture);
            Assert.InRange(p50, 0.05, 0.5);
            Assert.InRange(p99, p50, 10);
            Assert.Equal($"{Math.Round(p50 * 1000, MidpointRounding.AwayFromZero)} ms", page.Metrics["ttft-p50"].Text);

            var scaleOut = Assert.Single(page.ScaleEvents);
            Assert.Equal(("cloud", "out"), (scaleOut.Pool, scaleOut.Direction));
            Assert.Contains("scale out", scaleOut.Text, StringComparison.Ordinal);

            Assert.Empty(browser.Errors);
        }
        finally
        {
            await stop.CancelAsync();
            await traffic;
            Array.ForEach(held, a => a.Dispose());
        }
    }

    [Fact]
    public async Task OpenedAfterTraffic_ShowsTheRecentPastAtOnce_AndTheTenantsTable()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [["--max-num-seqs", "4"]],
            sims => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))] });

        // Four seconds of traffic, all served on-prem, over before the page opens.
        using var http = gateway.CreatePublicClient();
        var sent = 0;
        var until = DateTime.UtcNow.AddSeconds(4);
        while (DateTime.UtcNow < until)
        {
            using var answer = await http.SendAsync(ChatRequest.Post(maxTokens: 5));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            sent++;
        }

        // Once the gateway has sampled the last answer, the page's first look at the history holds all of them.
        await Eventually.WaitAsync(
            async () => ServedInHistory(await gateway.Admin.GetStringAsync("admin/history")),
            served => served == sent,
            TimeSpan.FromSeconds(10),
            "every answer in the gateway's history");
        var opened = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        await using var browser = await HeadlessChromium.OpenAsync(new Uri(gateway.AdminAddress, "dashboard"), Width, Height);
        var page = JsonSerializer.Deserialize<HistoryPage>(
            await Eventually.WaitAsync(
                () => browser.EvaluateAsync(ReadHistoryAndTenants),
                json => JsonSerializer.Deserialize<HistoryPage>(json, Json)!.Refreshes >= 1,
                TimeSpan.FromSeconds(30),
                "the dashboard's first refresh"),
            Json)!;
        await browser.ScreenshotAsync(Path.Combine(Artifacts, "dashboard-history.png"));
        Assert.Equal("live", page.State);

        // Both charts start seconds before the page was opened, with a point a second since.
        foreach (var chart in page.Charts)
        {
            Assert.True(chart.First < opened - 3000, $"{chart.Chart} starts at {chart.First}, the page opened at {opened}");
            Assert.True(chart.Points >= 4, $"{chart.Chart} has {chart.Points} points");
        }

        Assert.Equal(["served", "scaling"], page.Charts.Select(c => c.Chart));

        // The share counts every request of the history, not only those since the page opened.
        Assert.Equal(($"{sent}", $"{sent}", "0", "100.0"), (page.Share.Requests, page.Share.OnPrem, page.Share.Cloud, page.Share.OnPremPercent));
        Assert.True(int.Parse(page.Share.SpanMs!, CultureInfo.InvariantCulture) >= 4000, $"share over {page.Share.SpanMs} ms");

        var anonymous = Assert.Single(page.Tenants);
        Assert.Equal(("anonymous", "standard", "any", "0", "0", $"{sent}"), (anonymous.Tenant, anonymous.Class, anonymous.Residency, anonymous.InFlight, anonymous.Waiting, anonymous.Served));
        Assert.Equal(["requests", "tokens", "concurrent"], anonymous.Uses);
        Assert.Empty(browser.Errors);
    }

    [Fact]
    public async Task GatewayGoingAway_MarksThePageStale_AndKeepsTheLastNumbers()
    {
        var gateway = await GatewayFixture.StartAsync(
            [],
            _ => new()
            {
                Services =
                [
                    GatewayFixture.QwenChat(
                        GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address()),
                        GatewayFixture.Pool("cloud", 1, 2, ClosedPort.Address(), ClosedPort.Address())),
                ],
            });
        var stopped = false;
        try
        {
            await using var browser = await HeadlessChromium.OpenAsync(new Uri(gateway.AdminAddress, "dashboard"), Width, Height);
            await Eventually.WaitAsync(() => browser.EvaluateAsync(ReadPage), json => Parse(json) is { State: "live", Refreshes: >= 1 },
                TimeSpan.FromSeconds(30), "the dashboard going live");

            await gateway.DisposeAsync();
            stopped = true;

            var page = Parse(await Eventually.WaitAsync(() => browser.EvaluateAsync(ReadPage), json => Parse(json).State == "stale",
                TimeSpan.FromSeconds(30), "the dashboard going stale"));
            Assert.Equal(["on-prem-1", "cloud-1", "cloud-2"], page.Replicas.Select(r => r.Replica));
            Assert.Equal(["4", "2", "2"], page.Replicas.Select(r => r.Capacity));
            Assert.StartsWith("STALE", await browser.EvaluateAsync("document.getElementById('banner').innerText"), StringComparison.Ordinal);
            await browser.ScreenshotAsync(Path.Combine(Artifacts, "dashboard-stale.png"));
            Assert.DoesNotContain(browser.Errors, e => e.StartsWith("exception", StringComparison.Ordinal));
        }
        finally
        {
            if (!stopped)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    private static async Task SendUntilStoppedAsync(HttpClient http, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using (var answer = await http.SendAsync(ChatRequest.Post(maxTokens: 5), stop))
                {
                    Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                }

                // On-prem is full: every one of these is served, and counted by the gateway, in the cloud.
                using var malformed = await http.PostAsync("v1/chat/completions", new StringContent("{not json", Encoding.UTF8, "application/json"), stop);
                Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The test is done with traffic.
        }
    }

    private static (string?, string?, string?, string?, string?) Describe(ReplicaRow r) => (r.State, r.Healthy, r.InFlight, r.Capacity, r.Text);

    private static Page Parse(string json) => JsonSerializer.Deserialize<Page>(json, Json)!;

    private static PoolOptions Priced(PoolOptions pool, double perReplicaHour)
    {
        pool.Cost = new CostOptions { PerReplicaHour = perReplicaHour };
        return pool;
    }

    private static int ServedInHistory(string history)
    {
        using var document = JsonDocument.Parse(history);
        var served = 0;
        foreach (var sample in document.RootElement.GetProperty("samples").EnumerateArray())
        {
            var service = sample.GetProperty("services").GetProperty("qwen-chat");
            served += service.GetProperty("servedOnPrem").GetInt32() + service.GetProperty("servedCloud").GetInt32();
        }

        return served;
    }

    private sealed record Page(string State, int Refreshes, string[] Services, PoolCard[] Pools, ReplicaRow[] Replicas,
        Dictionary<string, Tile> Metrics, ScaleEventRow[] ScaleEvents);

    private sealed record PoolCard(string Pool, string Tier, string Priority, string InFlight, string Capacity, string Ready,
        string Provisioning, string Draining, string Unhealthy, string Desired, string Max, string Text, string? CostPerHour = null, string? ReplicaSeconds = null);

    private sealed record ReplicaRow(string Replica, string? State, string? Healthy, string? InFlight, string? Capacity, string? Text);

    private sealed record Tile(string? Value, string? Capacity, string? Seconds, string? OnPrem, string? Cloud, string? Requests, string Text,
        string? OnPremPercent = null, string? SpanMs = null);

    private sealed record ScaleEventRow(string Pool, string Direction, string Text);

    private sealed record HistoryPage(string State, int Refreshes, ChartPoints[] Charts, Tile Share, TenantRow[] Tenants);

    private sealed record ChartPoints(string Chart, int Points, long First);

    private sealed record TenantRow(string Tenant, string Class, string Residency, string InFlight, string Waiting, string Served, string[] Uses);
}
