using Gateway.Configuration;
using Gateway.Simulator.Engine;
using Gateway.Simulator.Options;

namespace Gateway.Planning;

/// <summary>
/// How a planned pool's replicas behave: the simulator's own <see cref="LatencyModel"/> (time to first token from the
/// prompt and the batch, inter-token latency from the batch) read from the very flags the pool starts its simulator
/// replicas with, and how long a new replica takes to become ready.
/// </summary>
internal sealed class ReplicaModel
{
    private readonly LatencyModel _latency;

    private ReplicaModel(SimulatorOptions options, TimeSpan boot)
    {
        _latency = new LatencyModel(options);
        Boot = boot;
    }

    /// <summary>From asking for a replica to its being ready: the simulator's start-up duration plus the process's own start.</summary>
    public TimeSpan Boot { get; }

    /// <inheritdoc cref="LatencyModel.TimeToFirstToken"/>
    public TimeSpan TimeToFirstToken(int promptTokens, int running) => _latency.TimeToFirstToken(promptTokens, running);

    /// <inheritdoc cref="LatencyModel.InterTokenLatency"/>
    public TimeSpan InterTokenLatency(int running) => _latency.InterTokenLatency(running);

    /// <summary>
    /// The model of <paramref name="pool"/>: its <c>Process</c> arguments after the simulator's dll (or, for a provider's
    /// stand-in, the stand-in's), or <paramref name="flags"/> given for it (a pool of real vLLM replicas, whose latency
    /// the operator measured); <paramref name="processStart"/> is added to a process replica's start-up duration.
    /// </summary>
    public static ReplicaModel For(PoolOptions pool, IReadOnlyList<string>? flags, TimeSpan processStart)
    {
        var arguments = flags ?? SimulatorArguments(pool)
            ?? throw new PlanningException(
                $"pool '{pool.Name}': the planner models replicas by the simulator flags they start with; this pool starts none, so give its flags with --replica {pool.Name}=\"--time-to-first-token ... --inter-token-latency ...\"");
        var parsed = SimulatorCommandLine.Parse([.. arguments.Select(a => a == "{port}" ? "0" : a)], _ => null);
        if (parsed.Options is not { } options)
        {
            throw new PlanningException($"pool '{pool.Name}': its simulator flags do not parse: {parsed.Error}");
        }

        var boot = TimeSpan.FromSeconds(options.StartupDurationSeconds) + (pool.Process is null ? TimeSpan.Zero : processStart);
        return new ReplicaModel(options, boot);
    }

    /// <summary>The simulator's flags in a pool's <c>Process</c> arguments: those after the argument naming its dll.</summary>
    private static string[]? SimulatorArguments(PoolOptions pool)
    {
        var arguments = pool.Process?.Arguments ?? pool.Provider?.StandIn?.Arguments;
        if (arguments is null)
        {
            return null;
        }

        for (var i = 0; i < arguments.Count; i++)
        {
            if (arguments[i].EndsWith("Gateway.Simulator.dll", StringComparison.Ordinal) || arguments[i].EndsWith("Gateway.Simulator", StringComparison.Ordinal))
            {
                return [.. arguments.Skip(i + 1)];
            }
        }

        return null;
    }
}

/// <summary>A plan that cannot run as asked; its message says what to change.</summary>
internal sealed class PlanningException(string message) : Exception(message);
