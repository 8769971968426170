using System.Globalization;

namespace Gateway.Configuration;

/// <summary>Checks <see cref="KubernetesClusterOptions"/>; each message starts with the key path.</summary>
internal static class KubernetesClusterOptionsValidator
{
    private const int MaxLeaseSeconds = 60 * 60;

    // KubernetesClient gives a whole call, retries included, 100 s; an attempt allowed longer would never time out.
    private const double MaxTimeoutSeconds = 100;

    // Polly's own lower bound on a timeout.
    private const double MinTimeoutSeconds = 0.01;

    private const int MaxRetries = 10;

    // The leader elector waits up to 1.2 retry periods (its jitter) between attempts; a renewal must fit in the deadline.
    private const double Jitter = 1.2;

    public static void Check(List<string> errors, KubernetesClusterOptions options, string path)
    {
        // Read when the first Kubernetes pool starts: a wrong path is better named now than as a failed start later.
        if (options.Kubeconfig.Length > 0 && !File.Exists(options.Kubeconfig))
        {
            errors.Add($"{path}:Kubeconfig: file '{options.Kubeconfig}' does not exist");
        }

        if (!(options.TimeoutSeconds >= MinTimeoutSeconds && options.TimeoutSeconds <= MaxTimeoutSeconds))
        {
            errors.Add($"{path}:TimeoutSeconds: must be at least {Format(MinTimeoutSeconds)} and at most {Format(MaxTimeoutSeconds)} seconds (KubernetesClient's limit on a whole call), got {Format(options.TimeoutSeconds)}");
        }

        if (options.MaxRetries is < 0 or > MaxRetries)
        {
            errors.Add($"{path}:MaxRetries: must be between 0 and {MaxRetries}, got {options.MaxRetries}");
        }

        var election = options.LeaderElection;
        if (!election.Enabled)
        {
            return;
        }

        var electionPath = $"{path}:LeaderElection";
        if (!IsDnsSubdomain(election.LeaseName))
        {
            errors.Add($"{electionPath}:LeaseName: must be a DNS subdomain (lower-case letters, digits, '-', '.'), got '{election.LeaseName}'");
        }

        if (election.Namespace.Length is > 63 || election.Namespace.Length > 0 && (!IsDnsSubdomain(election.Namespace) || election.Namespace.Contains('.', StringComparison.Ordinal)))
        {
            errors.Add($"{electionPath}:Namespace: must be empty (the gateway's own namespace) or a namespace name, got '{election.Namespace}'");
        }

        if (election.LeaseDurationSeconds is < 1 or > MaxLeaseSeconds)
        {
            errors.Add($"{electionPath}:LeaseDurationSeconds: must be between 1 and {MaxLeaseSeconds}, got {election.LeaseDurationSeconds}");
            return;
        }

        if (!(election.RetryPeriodSeconds > 0) || double.IsInfinity(election.RetryPeriodSeconds))
        {
            errors.Add($"{electionPath}:RetryPeriodSeconds: must be a positive number of seconds, got {Format(election.RetryPeriodSeconds)}");
            return;
        }

        // The leader must give up before the others may take over, or two gateways would scale at once.
        if (!(election.RenewDeadlineSeconds < election.LeaseDurationSeconds))
        {
            errors.Add($"{electionPath}:RenewDeadlineSeconds: must be less than LeaseDurationSeconds ({election.LeaseDurationSeconds}), got {Format(election.RenewDeadlineSeconds)}");
        }
        else if (!(election.RenewDeadlineSeconds > Jitter * election.RetryPeriodSeconds))
        {
            errors.Add($"{electionPath}:RenewDeadlineSeconds: must be more than {Jitter.ToString(CultureInfo.InvariantCulture)} × RetryPeriodSeconds ({Format(Jitter * election.RetryPeriodSeconds)}), got {Format(election.RenewDeadlineSeconds)}");
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static bool IsDnsSubdomain(string value)
    {
        if (value.Length is 0 or > 253 || !char.IsAsciiLetterLower(value[0]) && !char.IsAsciiDigit(value[0])
            || !char.IsAsciiLetterLower(value[^1]) && !char.IsAsciiDigit(value[^1]))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
