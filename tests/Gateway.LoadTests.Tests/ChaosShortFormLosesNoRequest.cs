using System.Text.Json;
using Gateway.LoadTests.Tests.Support;

namespace Gateway.LoadTests.Tests;

/// <summary>
/// The chaos drill's short form: every phase runs against its own demo gateway under five clients, and no request is
/// lost in any of them; none even fails where the queue's deadline leaves time to place it again (kill, stall, 503, a
/// failing scaler); streams cut mid-answer end with the error event; and each fault is seen to have happened.
/// </summary>
public sealed class ChaosShortFormLosesNoRequest
{
    private static readonly string[] Phases = ["kill", "stall", "503", "mid-stream-kill", "scaler-failure", "sigterm"];

    [Fact]
    public async Task ChaosShort_EveryPhase_NothingLost_NothingFailedWhereItCouldBePlacedAgain_EveryFaultSeen()
    {
        // Six gateways one after the other, each with its replicas: about a minute alone, more beside the other drills.
        using var run = new DrillRun(TimeSpan.FromMinutes(5));
        var chaos = await run.RunShortAsync("chaos");

        Assert.Equal(5, chaos.Count("settings", "clients"));
        Assert.Equal(60, chaos.Number("settings", "clientDeadlineSeconds"));
        var phases = chaos.At("phases").EnumerateArray().ToDictionary(p => p.At("phase").GetString()!);
        Assert.Equal(Phases, phases.Keys);
        foreach (var (name, phase) in phases)
        {
            var requests = phase.Count("requests");
            Assert.True(requests >= 10, $"{name}: only {requests} requests:\n{run.Output}");
            Assert.True(phase.Count("lost") == 0, $"{name}: lost {phase.At("lostByReason")}, e.g. {phase.At("lostExamples")}");
            Assert.Equal(requests, phase.Count("completed") + phase.Count("cleanErrors") + phase.Count("lost") + phase.Count("refused"));
            Assert.Equal(requests, phase.At("timeline").GetArrayLength());
            Assert.True(phase.Count("completed") > 0, $"{name}: nothing completed");
            Assert.True(phase.Number("injected", "at") <= phase.Number("loadEndedAt"), $"{name}: the fault came after the load");
        }

        // Where the request can be placed again before its deadline, none fails; only SIGTERM ends the gateway.
        foreach (var name in new[] { "kill", "stall", "503", "scaler-failure" })
        {
            Assert.True(phases[name].Count("cleanErrors") == 0, $"{name}: clean errors {phases[name].At("cleanErrorsByCode")}");
        }

        foreach (var name in Phases[..^1])
        {
            Assert.Equal(0, phases[name].Count("refused"));
        }

        AssertKilledAndReplaced(phases["kill"]);

        // The stall froze the replica with requests on it; they waited it out, then completed.
        var stall = phases["stall"];
        var stalled = stall.At("injected", "evidence");
        Assert.True(stalled.Count("inFlightOnItWhenStopped") >= 1, stall.ToString());
        Assert.True(stall.Number("completedLatencyMs", "max") >= 1000 * (stall.Number("injected", "endedAt") - stall.Number("injected", "at")) * 0.95,
            $"no answer waited out the stall: {stall.At("completedLatencyMs")}");
        Assert.True(stalled.At("samePidAfter").GetBoolean());

        // The replica answered 503, and the gateway placed those requests again.
        var unavailable = phases["503"];
        Assert.True(unavailable.Number("retriesByReason", "overloaded") >= 1, $"no 503 was placed again: {unavailable.At("retriesByReason")}");
        Assert.True(unavailable.At("injected", "evidence", "samePidAfter").GetBoolean());

        // Streams on the killed replica were cut, each ended by the error event then [DONE] (else it would count as lost).
        var midStream = phases["mid-stream-kill"];
        AssertKilledAndReplaced(midStream);
        Assert.InRange(midStream.Count("cutMidAnswer"), 0, midStream.Count("cleanErrors"));
        Assert.All(midStream.At("cleanErrorsByCode").EnumerateObject(), code => Assert.Equal("upstream_disconnected", code.Name));
        Assert.Equal(0, midStream.Count("load", "plainClients"));

        // The scaler failed its first calls, was called again, and the cloud replicas it then started served.
        var scaler = phases["scaler-failure"].At("injected", "evidence");
        Assert.Equal(2, scaler.Count("webhookCallsFailed"));
        Assert.True(scaler.Count("webhookCalls") >= 3, scaler.ToString());
        Assert.True(scaler.Count("cloudReplicasStarted") >= 1, scaler.ToString());
        Assert.Equal(JsonValueKind.Number, scaler.At("firstCloudAnswerAt").ValueKind);

        // SIGTERM: a clean exit; what did not finish got shutting_down, as an answer or as the stream's last event.
        var sigterm = phases["sigterm"];
        Assert.Equal(0, sigterm.Count("injected", "evidence", "exitCode"));
        Assert.All(sigterm.At("cleanErrorsByCode").EnumerateObject(), code => Assert.Equal("shutting_down", code.Name));
        Assert.True(sigterm.Count("cleanErrors") >= 1, $"no request met the drain: {sigterm.At("timeline")}");
        Assert.Equal(0, sigterm.Count("load", "plainClients"));
    }

    /// <summary>The on-prem replica was killed and its pool's Process provider started another under a new pid.</summary>
    private static void AssertKilledAndReplaced(JsonElement phase)
    {
        var evidence = phase.At("injected", "evidence");
        var killed = evidence.Count("killedPid");
        Assert.True(evidence.At("replacementPid").ValueKind == JsonValueKind.Number, $"no replacement seen: {evidence}");
        Assert.NotEqual(killed, evidence.Count("replacementPid"));
        Assert.Contains(killed, phase.At("onPremPids").EnumerateArray().Select(p => p.GetInt64()));
        Assert.Contains(evidence.Count("replacementPid"), phase.At("onPremPids").EnumerateArray().Select(p => p.GetInt64()));
    }
}
