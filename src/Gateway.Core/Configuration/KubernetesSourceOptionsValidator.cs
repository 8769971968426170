using System.Globalization;

namespace Gateway.Configuration;

/// <summary>Checks a pool's Kubernetes source; each message starts with the key path.</summary>
internal static class KubernetesSourceOptionsValidator
{
    private const int MaxResyncSeconds = 24 * 60 * 60;

    public static void Check(List<string> errors, KubernetesSourceOptions options, string path)
    {
        if (string.IsNullOrWhiteSpace(options.Namespace))
        {
            errors.Add($"{path}:Namespace: must name the service's namespace");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceName))
        {
            errors.Add($"{path}:ServiceName: must name the Kubernetes service whose pods are the replicas");
        }

        if (string.IsNullOrWhiteSpace(options.Port))
        {
            errors.Add($"{path}:Port: must name the endpoint port (its name, e.g. http, or its number, e.g. 8000)");
        }

        if (string.IsNullOrWhiteSpace(options.PoolLabel))
        {
            errors.Add($"{path}:PoolLabel: must name the label that assigns pods to pools, e.g. alibabacloud.com/nodepool-id");
        }

        if (string.IsNullOrWhiteSpace(options.PoolLabelValue))
        {
            errors.Add($"{path}:PoolLabelValue: must give the value of {options.PoolLabel} that puts a pod in this pool");
        }

        if (!Enum.IsDefined(options.LabelOn))
        {
            errors.Add($"{path}:LabelOn: must be Node or Pod");
        }

        if (!(options.ResyncSeconds > 0) || options.ResyncSeconds > MaxResyncSeconds)
        {
            errors.Add($"{path}:ResyncSeconds: must be a positive number of seconds, at most {MaxResyncSeconds}, got {options.ResyncSeconds.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
