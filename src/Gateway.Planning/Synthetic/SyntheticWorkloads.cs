namespace Gateway.Planning;

/// <summary>The synthetic traces <c>--synthetic NAME[:key=value,...]</c> can name, and the one entry point that builds them.</summary>
internal static class SyntheticWorkloads
{
    /// <summary>The size keys every open-loop generator takes, with their defaults (see <see cref="TokenShape.From"/>), for help lines.</summary>
    public const string SizeHelp = "prompt_median=150, prompt_sigma=1, prompt_max=4096, max_tokens=16/32/64, stream_share=0";

    /// <summary>Every generator, in the order help lists them.</summary>
    public static IReadOnlyList<ISyntheticGenerator> All { get; } =
        [new SeedPeakGenerator(), new PoissonGenerator(), new DiurnalGenerator(), new BurstyGenerator()];

    /// <summary>The workload <paramref name="spec"/> names, for example <c>seed-peak</c> or <c>bursty:minutes=30,seed=7</c>.</summary>
    /// <exception cref="FormatException">An unknown name (the message lists the known ones), an unknown key or a bad value.</exception>
    public static Workload Create(string spec)
    {
        var parsed = SyntheticSpec.Parse(spec);
        foreach (var generator in All)
        {
            if (string.Equals(generator.Name, parsed.Name, StringComparison.OrdinalIgnoreCase))
            {
                return generator.Create(parsed);
            }
        }

        throw new FormatException($"unknown synthetic trace '{parsed.Name}' (known: {string.Join(", ", All.Select(g => g.Name))})");
    }
}
