namespace Gateway.Planning;

/// <summary>One synthetic trace <c>--synthetic</c> can name: a small sealed class per trace, chosen by <see cref="Name"/> in <see cref="SyntheticWorkloads"/>.</summary>
internal interface ISyntheticGenerator
{
    /// <summary>What <c>--synthetic</c> calls it, for example <c>bursty</c>.</summary>
    string Name { get; }

    /// <summary>One line for the command's help: what it generates, and its keys with their defaults.</summary>
    string Help { get; }

    /// <summary>The workload <paramref name="spec"/> asks for, the same every time for the same spec.</summary>
    /// <exception cref="FormatException">A key the generator does not know, or a value out of range.</exception>
    Workload Create(SyntheticSpec spec);
}
