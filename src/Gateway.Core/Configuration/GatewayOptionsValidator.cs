namespace Gateway.Configuration;

/// <summary>
/// Checks the whole configuration, once, through <see cref="GatewayConfiguration.Validate"/>: the root's own values (listeners, domain, body limit, drain timeout)
/// here, every other options class by its own validator, composed from here down the tree. Every message begins
/// with the key path of the bad value (<c>Gateway:Services:0:Pools:1:CapacityPerReplica</c>) so an operator can find
/// it in the file or the environment variable that set it.
/// </summary>
internal static class GatewayOptionsValidator
{
    private const string Root = GatewayOptions.SectionName;

    /// <summary>Every problem found, each naming its key path; empty when the configuration is good.</summary>
    public static List<string> Check(GatewayOptions options)
    {
        var errors = new List<string>();
        var publicUri = CheckListener(errors, $"{Root}:PublicUrl", options.PublicUrl);
        var adminUri = CheckListener(errors, $"{Root}:AdminUrl", options.AdminUrl);
        if (publicUri is not null && adminUri is not null && publicUri.Port == adminUri.Port && publicUri.Port != 0)
        {
            errors.Add($"{Root}:AdminUrl: must use another port than {Root}:PublicUrl ({publicUri.Port}); the admin listener is never public");
        }

        if (string.IsNullOrWhiteSpace(options.Domain) || options.Domain.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"{Root}:Domain: must be a DNS domain such as example.com, got '{options.Domain}'");
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            errors.Add($"{Root}:MaxRequestBodyBytes: must be at least 1024, got {options.MaxRequestBodyBytes}");
        }

        OptionsChecks.Positive(errors, $"{Root}:DrainTimeoutSeconds", options.DrainTimeoutSeconds);
        AdminOptionsValidator.Check(errors, options.Admin, $"{Root}:Admin", adminUri, $"{Root}:AdminUrl");
        ListenerLimitsOptionsValidator.Check(errors, options.Limits, $"{Root}:Limits");
        TelemetryOptionsValidator.Check(errors, options.Telemetry, $"{Root}:Telemetry");
        RequestLogOptionsValidator.Check(errors, options.RequestLog, $"{Root}:RequestLog");
        ForwardingOptionsValidator.Check(errors, options.Forwarding, $"{Root}:Forwarding");
        ForwardedHeadersOptionsValidator.Check(errors, options.ForwardedHeaders, $"{Root}:ForwardedHeaders");
        KubernetesClusterOptionsValidator.Check(errors, options.Kubernetes, $"{Root}:Kubernetes");
        TenantOptionsValidator.Check(errors, options, Root);
        if (options.Services.Count == 0)
        {
            errors.Add($"{Root}:Services: at least one service is needed");
        }

        // Host names and models must be unique across services, so the maps of those already claimed live here,
        // above the services, and each service's check reads and fills them.
        var hosts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var models = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var s = 0; s < options.Services.Count; s++)
        {
            ServiceOptionsValidator.Check(errors, options.Services[s], $"{Root}:Services:{s}", options.Domain, hosts, models);
        }

        return errors;
    }

    /// <summary>The URL a listener binds, or null after adding a message: plain http on an IP address or localhost.</summary>
    private static Uri? CheckListener(List<string> errors, string key, string value)
    {
        var uri = OptionsChecks.CheckUrl(errors, key, value);
        if (uri is null)
        {
            return null;
        }

        if (uri.Scheme != "http")
        {
            errors.Add($"{key}: the gateway listens on plain http (put TLS in front of it), got '{value}'");
            return null;
        }

        if (uri.Host != "localhost" && !System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out _))
        {
            errors.Add($"{key}: the host must be an IP address (0.0.0.0 for all) or localhost, got '{uri.Host}'");
            return null;
        }

        return uri;
    }
}
