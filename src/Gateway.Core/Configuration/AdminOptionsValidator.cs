namespace Gateway.Configuration;

/// <summary>
/// Checks <see cref="AdminOptions"/> against the admin listener's address: a listener other clients can reach needs a
/// token source unless anonymous access is asked for. Only the options are judged here; whether the file can be read
/// or the variable is set is known when the admin endpoints are built.
/// </summary>
internal static class AdminOptionsValidator
{
    /// <summary>
    /// Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>Gateway:Admin</c>);
    /// <paramref name="adminUri"/> is the admin listener's URL, null when it is itself invalid.
    /// </summary>
    public static void Check(List<string> errors, AdminOptions admin, string path, Uri? adminUri, string adminUrlKey)
    {
        var hasFile = !string.IsNullOrWhiteSpace(admin.TokenFile);
        var hasEnv = !string.IsNullOrWhiteSpace(admin.TokenEnv);
        if (admin.TokenFile is not null && !hasFile)
        {
            errors.Add($"{path}:TokenFile: must be a file path, got '{admin.TokenFile}'");
        }

        if (admin.TokenEnv is not null && (!hasEnv || admin.TokenEnv.Contains('=', StringComparison.Ordinal) || admin.TokenEnv.Any(char.IsWhiteSpace)))
        {
            errors.Add($"{path}:TokenEnv: must be the name of an environment variable, got '{admin.TokenEnv}'");
        }

        if (hasFile && hasEnv)
        {
            errors.Add($"{path}:TokenEnv: give TokenFile or TokenEnv, not both");
        }

        if (adminUri is not null && !IsLoopback(adminUri) && admin.TokenFile is null && admin.TokenEnv is null && !admin.AllowAnonymous)
        {
            errors.Add($"{path}:TokenFile: the admin listener binds {adminUri.Host} ({adminUrlKey}), so it needs a token: give TokenFile or TokenEnv, or set {path}:AllowAnonymous");
        }
    }

    /// <summary>Whether only this machine can reach the URL's host (<c>localhost</c>, 127.0.0.0/8, <c>::1</c>).</summary>
    public static bool IsLoopback(Uri uri) =>
        uri.Host == "localhost"
        || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
}
