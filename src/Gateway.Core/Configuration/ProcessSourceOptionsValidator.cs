namespace Gateway.Configuration;

/// <summary>
/// Checks a pool's <see cref="ProcessSourceOptions"/> (the command, its <c>{port}</c> argument, replicas, timeouts and
/// port range); each message starts with the key path.
/// </summary>
internal static class ProcessSourceOptionsValidator
{
    /// <summary>
    /// Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>…:Pools:1:Process</c>).
    /// <paramref name="scalingMaxReplicas"/> is the pool's <see cref="ScalingOptions.MaxReplicas"/>, 0 for a fixed-size
    /// pool: the port range must hold that many replicas too.
    /// </summary>
    public static void Check(List<string> errors, ProcessSourceOptions process, string path, int scalingMaxReplicas)
    {
        if (string.IsNullOrWhiteSpace(process.Command))
        {
            errors.Add($"{path}:Command: must name a program to run");
        }

        // Each replica gets its own port; without {port} every replica would try the same one.
        if (!process.Arguments.Exists(a => a.Contains("{port}", StringComparison.Ordinal)))
        {
            errors.Add($"{path}:Arguments: must contain {{port}}, where the replica's port goes");
        }

        if (process.Replicas < 0)
        {
            errors.Add($"{path}:Replicas: must be 0 or more, got {process.Replicas}");
        }

        OptionsChecks.Positive(errors, $"{path}:ReadyTimeoutSeconds", process.ReadyTimeoutSeconds);
        OptionsChecks.Positive(errors, $"{path}:StopTimeoutSeconds", process.StopTimeoutSeconds);
        CheckPortRange(errors, process, path, scalingMaxReplicas);
    }

    /// <summary>The port range: none (both 0), or ports 1..65535 in order, with room for every replica the pool may run.</summary>
    private static void CheckPortRange(List<string> errors, ProcessSourceOptions process, string path, int scalingMaxReplicas)
    {
        if (process.FirstPort == 0 && process.LastPort == 0)
        {
            return;
        }

        if (process.FirstPort is < 1 or > 65535)
        {
            errors.Add($"{path}:FirstPort: must be a port from 1 to 65535 (or 0 with LastPort 0 for any free port), got {process.FirstPort}");
        }
        else if (process.LastPort < process.FirstPort || process.LastPort > 65535)
        {
            errors.Add($"{path}:LastPort: must be from FirstPort ({process.FirstPort}) to 65535, got {process.LastPort}");
        }
        else
        {
            var most = Math.Max(process.Replicas, scalingMaxReplicas);
            if (process.LastPort - process.FirstPort + 1 < most)
            {
                errors.Add($"{path}:LastPort: the range {process.FirstPort}-{process.LastPort} has fewer ports than the {most} replicas the pool may run");
            }
        }
    }
}
