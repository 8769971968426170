using Microsoft.Extensions.Hosting;

namespace Gateway.Admin;

/// <summary>
/// Takes a <see cref="StatusHistory"/> sample at start and then every <see cref="StatusHistory.Interval"/>, on the
/// gateway's <see cref="TimeProvider"/>, off the request path: requests only move the counters a sample reads.
/// </summary>
internal sealed class StatusSampler(StatusHistory history, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(StatusHistory.Interval, time);
        do
        {
            history.Sample();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
