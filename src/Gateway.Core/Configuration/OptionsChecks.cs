using System.Globalization;

namespace Gateway.Configuration;

/// <summary>
/// Checks that several options validators share (seconds, URLs, DNS labels), kept in one place so the same kind of
/// value is judged, and its message worded, the same way wherever it appears.
/// </summary>
internal static class OptionsChecks
{
    /// <summary>Adds a message unless <paramref name="value"/> is a positive, finite number of seconds.</summary>
    public static void Positive(List<string> errors, string key, double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            errors.Add($"{key}: must be a positive number of seconds, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    /// <summary>The absolute http(s) URL in <paramref name="value"/>, or null after adding a message.</summary>
    public static Uri? CheckUrl(List<string> errors, string key, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            errors.Add($"{key}: must be an absolute http:// or https:// URL, got '{value}'");
            return null;
        }

        return uri;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is an RFC 1123 DNS label (as Kubernetes names are): a service's name and
    /// namespace make up its host name <c>{Name}-{Namespace}.{Domain}</c>.
    /// </summary>
    public static bool IsDnsLabel(string value)
    {
        if (value.Length is 0 or > 63 || value[0] == '-' || value[^1] == '-')
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
