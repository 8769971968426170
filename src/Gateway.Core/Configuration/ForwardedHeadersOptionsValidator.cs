using System.Net;

namespace Gateway.Configuration;

/// <summary>Checks <see cref="ForwardedHeadersOptions"/>: every known network is a CIDR network; each message starts with the key path.</summary>
internal static class ForwardedHeadersOptionsValidator
{
    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>Gateway:ForwardedHeaders</c>).</summary>
    public static void Check(List<string> errors, ForwardedHeadersOptions forwarded, string path)
    {
        for (var i = 0; i < forwarded.KnownNetworks.Count; i++)
        {
            var network = forwarded.KnownNetworks[i];
            if (network is null || !IPNetwork.TryParse(network, out _))
            {
                errors.Add($"{path}:KnownNetworks:{i}: must be a network in CIDR notation such as 10.0.0.0/8 or ::1/128, got '{network}'");
            }
        }
    }
}
