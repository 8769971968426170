using System.Globalization;

namespace Gateway.Configuration;

/// <summary>
/// Checks <see cref="AuthOptions"/> and every <see cref="TenantOptions"/>: names fit a metric label and are unique,
/// key hashes are SHA-256 hex and belong to one tenant, limits are positive, services exist; each message starts
/// with the key path.
/// </summary>
internal static class TenantOptionsValidator
{
    /// <summary>The tenant every caller is when <see cref="AuthOptions.Mode"/> is <see cref="AuthMode.None"/>; no configured tenant may take its name.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value of <paramref name="options"/>'s auth, tenants and classes.</summary>
    public static void Check(List<string> errors, GatewayOptions options, string root)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        var services = new HashSet<string>(options.Services.Select(s => s.Name), StringComparer.Ordinal);
        for (var t = 0; t < options.Tenants.Count; t++)
        {
            var tenant = options.Tenants[t];
            var path = $"{root}:Tenants:{t}";
            if (!OptionsChecks.IsDnsLabel(tenant.Name))
            {
                errors.Add($"{path}:Name: must be a DNS label (lower-case letters, digits, '-'), got '{tenant.Name}'");
            }
            else if (tenant.Name == Anonymous)
            {
                errors.Add($"{path}:Name: '{Anonymous}' is the tenant of callers without a key; choose another name");
            }
            else if (!names.Add(tenant.Name))
            {
                errors.Add($"{path}:Name: tenant '{tenant.Name}' appears twice");
            }

            for (var k = 0; k < tenant.ApiKeyHashes.Count; k++)
            {
                // The hash is not secret, but it is not echoed either: its position is enough to find it.
                var hash = tenant.ApiKeyHashes[k];
                if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower))
                {
                    errors.Add($"{path}:ApiKeyHashes:{k}: must be the lower-case hex SHA-256 of a key (64 characters; `hash-key` prints it), got {hash.Length} characters");
                }
                else if (!hashes.TryAdd(hash, path))
                {
                    errors.Add($"{path}:ApiKeyHashes:{k}: the same key is already {hashes[hash]}'s; a key names one tenant");
                }
            }

            Positive(errors, $"{path}:Limits:RequestsPerMinute", tenant.Limits.RequestsPerMinute);
            Positive(errors, $"{path}:Limits:TokensPerMinute", tenant.Limits.TokensPerMinute);
            Positive(errors, $"{path}:Limits:MaxConcurrent", tenant.Limits.MaxConcurrent);
            for (var s = 0; s < tenant.Services.Count; s++)
            {
                if (!services.Contains(tenant.Services[s]))
                {
                    errors.Add($"{path}:Services:{s}: no service is named '{tenant.Services[s]}'");
                }
            }
        }

        if (options.Auth.Mode == AuthMode.ApiKeys && !options.Tenants.Any(t => t.ApiKeyHashes.Count > 0))
        {
            errors.Add($"{root}:Auth:Mode: ApiKeys needs at least one tenant with ApiKeyHashes ({root}:Tenants:N:ApiKeyHashes), else nobody can call");
        }

        CheckSlotShares(errors, options.Classes, root);
    }

    /// <summary>
    /// Each class's <see cref="PriorityClassOptions.MaxSlotShare"/> is above 0 and at most 1, and at most that of every
    /// more important class: the queue stops handing out slots at the first class that finds no room, which is right
    /// only when no class below may fill a replica further.
    /// </summary>
    private static void CheckSlotShares(List<string> errors, Dictionary<PriorityClass, PriorityClassOptions> classes, string root)
    {
        double Share(PriorityClass priority) => classes.TryGetValue(priority, out var o) ? o.MaxSlotShare : 1;
        foreach (var priority in Enum.GetValues<PriorityClass>())
        {
            var share = Share(priority);
            var key = $"{root}:Classes:{priority}:MaxSlotShare";
            if (!(share > 0 && share <= 1))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}: must be above 0 and at most 1, got {share}"));
                continue;
            }

            for (var above = (PriorityClass)0; above < priority; above++)
            {
                if (Share(above) is var higher and > 0 and <= 1 && share > higher)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{key}: must be at most {above}'s ({higher}), got {share}: a class may not fill a replica further than a more important one"));
                }
            }
        }
    }

    private static void Positive(List<string> errors, string key, int? value)
    {
        if (value is < 1)
        {
            errors.Add($"{key}: must be at least 1 (leave it out for no limit), got {value}");
        }
    }
}
