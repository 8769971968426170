using Gateway.Configuration;

namespace Gateway.Balancing;

/// <summary>
/// How many of a replica's slots each priority class may fill (<see cref="PriorityClassOptions.MaxSlotShare"/>): a
/// request is placed on a replica only while fewer requests than its class's slots are in flight there. Keeping
/// Sheddable work off a replica's last slots is what lets a Critical request start at once under a flood, where the
/// queue's order alone would make it wait for an answer to end.
/// </summary>
internal sealed class ClassSlots
{
    // Guards against 0.3 x 10 = 2.9999999999999996 rounding a whole slot away.
    private const double Rounding = 1e-9;

    private readonly double[] _shares;

    /// <summary>The shares <paramref name="classes"/> configure; a class not named fills every slot.</summary>
    public ClassSlots(IReadOnlyDictionary<PriorityClass, PriorityClassOptions>? classes)
    {
        var all = Enum.GetValues<PriorityClass>();
        _shares = new double[all.Length];
        foreach (var priority in all)
        {
            _shares[(int)priority] = classes is not null && classes.TryGetValue(priority, out var options) ? options.MaxSlotShare : 1;
        }
    }

    /// <summary>Every class fills every slot.</summary>
    public static ClassSlots Every { get; } = new(null);

    /// <summary>The slots of a replica of <paramref name="capacity"/> that requests of <paramref name="priority"/> may fill: at least 1.</summary>
    public int For(PriorityClass priority, int capacity)
    {
        var share = _shares[(int)priority];
        return share >= 1 ? capacity : Math.Max(1, (int)((share * capacity) + Rounding));
    }
}
