using Gateway.Simulator.Options;

namespace Gateway.Simulator.Engine;

/// <summary>
/// Stands in for a replica loading its weights: until <c>--startup-duration</c> has passed since start,
/// <c>/health</c> and the API answer 503.
/// </summary>
internal sealed class StartupGate(SimulatorOptions options, TimeProvider time)
{
    private readonly long _start = time.GetTimestamp();
    private readonly TimeSpan _duration = TimeSpan.FromSeconds(options.StartupDurationSeconds);
    private volatile bool _ready = options.StartupDurationSeconds <= 0;

    /// <summary>Whether the model has finished loading.</summary>
    public bool IsReady
    {
        get
        {
            if (!_ready && time.GetElapsedTime(_start) >= _duration)
            {
                _ready = true;
            }

            return _ready;
        }
    }
}
