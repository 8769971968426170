using System.Globalization;

namespace Gateway.Scaling;

/// <summary>Checks a pool's <see cref="ScalingOptions"/> and a service's target utilisation; each message begins with the key path.</summary>
internal static class ScalingOptionsValidator
{
    // Timers run at most about 49 days; a day is more than any window needs.
    private const double MaxSeconds = 24 * 60 * 60;

    public static void Check(List<string> errors, ScalingOptions scaling, string path)
    {
        if (scaling.MinReplicas < 0)
        {
            errors.Add($"{path}:MinReplicas: must be 0 or more, got {scaling.MinReplicas}");
        }

        if (scaling.MaxReplicas < 1)
        {
            errors.Add($"{path}:MaxReplicas: must be at least 1, got {scaling.MaxReplicas}");
        }
        else if (scaling.MaxReplicas < scaling.MinReplicas)
        {
            errors.Add($"{path}:MaxReplicas: must be at least MinReplicas ({scaling.MinReplicas}), got {scaling.MaxReplicas}");
        }

        Seconds(errors, $"{path}:ScaleOutWindowSeconds", scaling.ScaleOutWindowSeconds, allowZero: true);
        Seconds(errors, $"{path}:ScaleInStabilizationSeconds", scaling.ScaleInStabilizationSeconds, allowZero: true);
        Seconds(errors, $"{path}:DrainTimeoutSeconds", scaling.DrainTimeoutSeconds, allowZero: false);
    }

    public static void CheckTargetUtilization(List<string> errors, double target, string path)
    {
        if (!(target > 0 && target <= 1))
        {
            errors.Add($"{path}:TargetUtilization: must be more than 0 and at most 1, got {target.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static void Seconds(List<string> errors, string key, double value, bool allowZero)
    {
        if (!(allowZero ? value >= 0 : value > 0) || value > MaxSeconds)
        {
            var least = allowZero ? "0 or more" : "more than 0";
            errors.Add($"{key}: must be {least} and at most {MaxSeconds.ToString(CultureInfo.InvariantCulture)} seconds (a day), got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
