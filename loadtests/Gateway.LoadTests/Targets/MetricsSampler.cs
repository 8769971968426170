using System.Diagnostics;
using Gateway.Testing;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// Scrapes the gateway's admin <c>/metrics</c> at a fixed interval in the background, timing each sample against an
/// origin (the start of the load) so a drill can read when things happened and integrate gauges over time.
/// </summary>
internal sealed class MetricsSampler : IAsyncDisposable
{
    private readonly HttpClient _admin;
    private readonly TimeSpan _interval;
    private readonly List<MetricsSample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private long _origin = Stopwatch.GetTimestamp();
    private Task? _loop;

    public MetricsSampler(Uri adminAddress, TimeSpan interval)
    {
        _admin = LoadClient.Create(TimeSpan.FromSeconds(5));
        _admin.BaseAddress = adminAddress;
        _interval = interval;
    }

    /// <summary>Scrape failures (a busy admin listener): counted, not fatal, so a long drill is not lost to one of them.</summary>
    public int Failures { get; private set; }

    /// <summary>The wall-clock time of the origin, to place the gateway's own timestamps on the samples' time line.</summary>
    public DateTimeOffset OriginTime { get; private set; } = TimeProvider.System.GetUtcNow();

    /// <summary>Makes now the time 0 of the samples taken from now on.</summary>
    public void SetOrigin()
    {
        OriginTime = TimeProvider.System.GetUtcNow();
        Interlocked.Exchange(ref _origin, Stopwatch.GetTimestamp());
    }

    /// <summary>Seconds since the origin.</summary>
    public double Now => Stopwatch.GetElapsedTime(Interlocked.Read(ref _origin)).TotalSeconds;

    public void Start() => _loop = LoopAsync(_stop.Token);

    /// <summary>One scrape that is not kept: the first scrape of a process pays for connecting and JIT, and would be late.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken) =>
        await _admin.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken);

    /// <summary>Takes one sample now, outside the loop, and keeps it.</summary>
    public async Task<MetricsSample> SampleAsync(CancellationToken cancellationToken)
    {
        // The sample is timed at the middle of its scrape: the gateway reads its state somewhere in between.
        var before = Now;
        var values = MetricsText.Parse(await _admin.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken));
        var sample = new MetricsSample(Math.Round((before + Now) / 2, 3), values);
        lock (_samples)
        {
            _samples.Add(sample);
        }

        return sample;
    }

    /// <summary>The samples so far, in time order.</summary>
    public IReadOnlyList<MetricsSample> Samples()
    {
        lock (_samples)
        {
            return [.. _samples.OrderBy(s => s.At)];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _stop.Dispose();
        _admin.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            do
            {
                try
                {
                    await SampleAsync(cancellationToken);
                }
                catch (HttpRequestException)
                {
                    Failures++;
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    Failures++;
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
