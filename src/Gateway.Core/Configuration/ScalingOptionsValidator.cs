using System.Globalization;

namespace Gateway.Configuration;

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
        Seconds(errors, $"{path}:ProvisioningTimeoutSeconds", scaling.ProvisioningTimeoutSeconds, allowZero: false);
        if (scaling.Webhook is { } webhook)
        {
            CheckWebhook(errors, webhook, $"{path}:Webhook");
        }

        if (scaling.Kubernetes is { } kubernetes)
        {
            if (string.IsNullOrWhiteSpace(kubernetes.Name))
            {
                errors.Add($"{path}:Kubernetes:Name: must name the Deployment or InferenceService to scale");
            }

            if (!Enum.IsDefined(kubernetes.Kind))
            {
                errors.Add($"{path}:Kubernetes:Kind: must be {string.Join(" or ", Enum.GetNames<KubernetesScaleTargetKind>())}, got {kubernetes.Kind}");
            }
        }
    }

    /// <summary>
    /// Checks that something can scale the elastic pool at <paramref name="path"/> (its <c>Scaling</c> is at
    /// <c>{path}:Scaling</c>): a Process source scales itself; a Static pool needs a webhook, which starts replicas at
    /// its candidate addresses; a Kubernetes pool a webhook or a scale target; never both.
    /// </summary>
    public static void CheckScaler(List<string> errors, PoolOptions pool, string path)
    {
        if (pool.Scaling is not { } scaling)
        {
            return;
        }

        var key = $"{path}:Scaling";
        if (scaling.Webhook is not null && scaling.Kubernetes is not null)
        {
            errors.Add($"{key}: give at most one of Webhook and Kubernetes: two scalers would each ask for their own count");
            return;
        }

        if (pool.Process is not null)
        {
            // The source starts and stops the replicas itself; a webhook's count would start a second set elsewhere.
            if (scaling.Webhook is not null)
            {
                errors.Add($"{key}:Webhook: a Process pool scales itself (it starts its replicas); use a Static or Kubernetes source with a webhook");
            }
            else if (scaling.Kubernetes is not null)
            {
                errors.Add($"{key}:Kubernetes: a Process pool scales itself (it starts its replicas); a scale target needs a Kubernetes source");
            }
        }
        else if (pool.Kubernetes is not null)
        {
            // Discovery only finds pods; without a scaler the controller's wish would go nowhere.
            if (scaling.Webhook is null && scaling.Kubernetes is null)
            {
                errors.Add($"{key}: nothing can scale a Kubernetes pool by itself: add Kubernetes (a Deployment or InferenceService to patch) or Webhook, or drop Scaling");
            }
        }
        else
        {
            // A Static pool: its addresses are the candidates a webhook starts replicas at.
            if (scaling.Kubernetes is not null)
            {
                errors.Add($"{key}:Kubernetes: a scale target needs a pool with a Kubernetes source, whose pods it scales");
            }
            else if (scaling.Webhook is null)
            {
                errors.Add($"{key}: nothing can scale a Static pool: add Webhook (its Static addresses are then the candidates the webhook starts), or drop Scaling");
            }
            else if (pool.Static.Count > 0 && scaling.MaxReplicas > pool.Static.Count)
            {
                errors.Add($"{key}:MaxReplicas: a Static pool scaled by a webhook has at most its {pool.Static.Count} candidate addresses, got {scaling.MaxReplicas}");
            }
        }
    }

    private static void CheckWebhook(List<string> errors, WebhookScalerOptions webhook, string path)
    {
        if (!Uri.TryCreate(webhook.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            // The URL itself is not repeated: it may carry a token in its query.
            errors.Add($"{path}:Url: must be an absolute http:// or https:// URL");
        }

        // Polly's own bounds: a timeout of at least 10 ms, a break of at least half a second.
        Seconds(errors, $"{path}:TimeoutSeconds", webhook.TimeoutSeconds, least: 0.01);
        if (webhook.MaxRetries is < 0 or > 10)
        {
            errors.Add($"{path}:MaxRetries: must be between 0 and 10, got {webhook.MaxRetries}");
        }

        Seconds(errors, $"{path}:BreakSeconds", webhook.BreakSeconds, least: 0.5);
    }

    private static void Seconds(List<string> errors, string key, double value, double least)
    {
        if (!(value >= least) || value > MaxSeconds)
        {
            errors.Add($"{key}: must be at least {least.ToString(CultureInfo.InvariantCulture)} and at most {MaxSeconds.ToString(CultureInfo.InvariantCulture)} seconds (a day), got {value.ToString(CultureInfo.InvariantCulture)}");
        }
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
