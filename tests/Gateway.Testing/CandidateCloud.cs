using System.Globalization;
using System.Text.Json;

namespace Gateway.Testing;

/// <summary>
/// A cloud behind a scaling webhook, on one machine: a <see cref="WebhookReceiver"/> that starts simulator processes on
/// pre-picked free loopback ports (the candidate addresses the gateway is configured with) when asked for more
/// replicas, and stops the one a scale-in names. Disposing stops the receiver and every simulator it started.
/// </summary>
public sealed class CandidateCloud : IAsyncDisposable
{
    private readonly string[] _simulatorArgs;
    private readonly Dictionary<int, Task<SimulatorProcess>> _running = [];
    private readonly List<Task<SimulatorProcess>> _started = [];
    private readonly List<int> _stopped = [];
    private WebhookReceiver _receiver = null!;

    private int _failuresLeft;
    private int _failed;

    private CandidateCloud(int candidates, int failFirst, string[] simulatorArgs)
    {
        _simulatorArgs = simulatorArgs;
        _failuresLeft = failFirst;
        Candidates = [.. Enumerable.Range(0, candidates).Select(_ => ClosedPort.Address())];
    }

    /// <summary>Where replicas may appear, e.g. <c>http://127.0.0.1:41234/</c>; nothing listens there until asked.</summary>
    public IReadOnlyList<Uri> Candidates { get; }

    /// <summary>The URL the gateway's webhook POSTs to.</summary>
    public Uri Url => _receiver.Url;

    /// <summary>The POSTs the receiver got, in order.</summary>
    public IReadOnlyList<WebhookCall> Calls => _receiver.Calls;

    /// <summary>Calls answered 500 (the first <c>failFirst</c> ones), which started nothing.</summary>
    public int FailedCalls
    {
        get
        {
            lock (_running)
            {
                return _failed;
            }
        }
    }

    /// <summary>Candidates whose simulator was stopped by a scale-in, in order.</summary>
    public IReadOnlyList<Uri> Stopped
    {
        get
        {
            lock (_running)
            {
                return [.. _stopped.Select(port => Candidates.Single(c => c.Port == port))];
            }
        }
    }

    /// <summary>Simulators running now.</summary>
    public int Running
    {
        get
        {
            lock (_running)
            {
                return _running.Count;
            }
        }
    }

    public static Task<CandidateCloud> StartAsync(int candidates, params string[] simulatorArgs) => StartAsync(candidates, 0, simulatorArgs);

    /// <summary>A cloud whose API answers 500, and does nothing, to its first <paramref name="failFirst"/> calls.</summary>
    public static async Task<CandidateCloud> StartAsync(int candidates, int failFirst, params string[] simulatorArgs)
    {
        var cloud = new CandidateCloud(candidates, failFirst, simulatorArgs);
        cloud._receiver = await WebhookReceiver.StartAsync(cloud.AnswerAsync);
        return cloud;
    }

    /// <summary>
    /// Scale-out: starts simulators on the first candidates not running until <c>desiredReplicas</c> run, and answers at
    /// once (a cloud boots nodes after accepting the call). Scale-in: stops the replica named, then answers.
    /// </summary>
    private async Task<int> AnswerAsync(int call, JsonElement body, CancellationToken aborted)
    {
        Task<SimulatorProcess>? stopping = null;
        lock (_running)
        {
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                _failed++;
                return 500;
            }

            if (body.TryGetProperty("replica", out var replica))
            {
                var port = new Uri(replica.GetString()!).Port;
                if (_running.Remove(port, out stopping))
                {
                    _stopped.Add(port);
                }
            }
            else
            {
                var desired = body.GetProperty("desiredReplicas").GetInt32();
                foreach (var candidate in Candidates)
                {
                    if (_running.Count >= desired)
                    {
                        break;
                    }

                    if (!_running.ContainsKey(candidate.Port))
                    {
                        var start = SimulatorProcess.StartOnPortAsync(candidate.Port, _simulatorArgs);
                        _running[candidate.Port] = start;
                        _started.Add(start);
                    }
                }
            }
        }

        if (stopping is not null)
        {
            await (await stopping).KillAsync();
        }

        return 200;
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        Task<SimulatorProcess>[] started;
        lock (_running)
        {
            started = [.. _started];
        }

        foreach (var start in started)
        {
            try
            {
                await (await start).DisposeAsync();
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                // Never listened: nothing left running.
            }
        }
    }

    public override string ToString() =>
        string.Join(", ", Candidates.Select(c => c.Port.ToString(CultureInfo.InvariantCulture)));
}
