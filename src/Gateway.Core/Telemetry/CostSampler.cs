using Microsoft.Extensions.Hosting;

namespace Gateway.Telemetry;

/// <summary>
/// Ticks the <see cref="CostMeter"/> every <see cref="Interval"/> on the gateway's <see cref="TimeProvider"/>, off the
/// request path: replica time is charged and budgets follow the sliding hour even when no answer is charged.
/// </summary>
internal sealed class CostSampler(CostMeter meter, TimeProvider time) : BackgroundService
{
    /// <summary>How often replica time is measured and budgets are checked.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            meter.Tick();
        }
    }
}
