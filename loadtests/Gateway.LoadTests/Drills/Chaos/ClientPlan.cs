namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>What one client of a phase sends, over and over: plain or streamed, and its <c>max_tokens</c> (null: the body's own).</summary>
internal sealed record ClientPlan(bool Streamed, int? MaxTokens = null)
{
    public static readonly ClientPlan Plain = new(false);

    public static readonly ClientPlan Stream = new(true);

    public override string ToString() => (Streamed ? "streamed" : "plain") + (MaxTokens is { } tokens ? $" (max_tokens {tokens})" : "");
}
