using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// A tenant the drill configures on the gateway it starts: its name, class, residency, and what its closed-loop clients
/// send. Its key is made at run time and never leaves the drill's process except as the <c>Authorization</c> of its
/// requests; the gateway's configuration gets only its SHA-256, as an operator's would.
/// </summary>
internal sealed record DrillTenant(string Name, string Priority, string Residency, int Clients, bool Streamed, int MaxTokens)
{
    /// <summary>The key the clients send, fresh for each run (not in the report).</summary>
    [JsonIgnore]
    public string Key { get; } = "sk-drill-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// The overrides that make this tenant number <paramref name="index"/> of the gateway's <c>Tenants</c>: name, the hash
    /// of its key, class and residency; no limits, so that what the drill measures is the queue and the placement.
    /// </summary>
    public IEnumerable<string> Overrides(int index) =>
    [
        $"--Gateway:Tenants:{index}:Name={Name}",
        $"--Gateway:Tenants:{index}:ApiKeyHashes:0={Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)))}",
        $"--Gateway:Tenants:{index}:Priority={Priority}",
        $"--Gateway:Tenants:{index}:Residency={Residency}",
    ];

    /// <summary>What each client sends, e.g. <c>2 streamed (max_tokens 10)</c>.</summary>
    public override string ToString() => $"{Clients} {(Streamed ? "streamed" : "plain")} (max_tokens {MaxTokens})";
}
