using System.Text;
using Gateway.Configuration;
using Gateway.Tenancy;
using Microsoft.Extensions.Primitives;

namespace Gateway.Admin;

/// <summary>
/// The bearer token the admin listener asks for, read once at start from <see cref="AdminOptions.TokenFile"/> or the
/// variable <see cref="AdminOptions.TokenEnv"/> names. It is compared in constant time and never written anywhere:
/// not to logs, not to an answer, not to an exception message.
/// </summary>
internal sealed class AdminToken
{
    // The token's SHA-256: compared as a digest, so its length never shows in the comparison's time.
    private readonly byte[] _expected;

    private const string BasicScheme = "Basic ";

    private AdminToken(byte[] expected) => _expected = expected;

    /// <summary>
    /// The token of <paramref name="options"/>, or null when they name no source; throws
    /// <see cref="GatewayConfigurationException"/> naming the key when the file cannot be read, or it or the variable is empty.
    /// </summary>
    public static AdminToken? Read(AdminOptions options, string path, Func<string, string?>? environment = null)
    {
        string? token;
        if (options.TokenFile is { } file)
        {
            try
            {
                token = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The exception's message names the file and the reason, never its content.
                throw new GatewayConfigurationException([$"{path}:TokenFile: cannot read the admin token from '{file}': {e.Message}"]);
            }

            token = token.Trim();
            if (token.Length == 0)
            {
                throw new GatewayConfigurationException([$"{path}:TokenFile: the admin token file '{file}' is empty"]);
            }
        }
        else if (options.TokenEnv is { } variable)
        {
            token = (environment ?? Environment.GetEnvironmentVariable)(variable)?.Trim();
            if (string.IsNullOrEmpty(token))
            {
                throw new GatewayConfigurationException([$"{path}:TokenEnv: the environment variable '{variable}' that should hold the admin token is not set or empty"]);
            }
        }
        else
        {
            return null;
        }

        return new AdminToken(KeyDigest.Of(token));
    }

    /// <summary>
    /// Whether <paramref name="authorization"/> is exactly one credential carrying the token: <c>Bearer TOKEN</c>, or
    /// <c>Basic</c> with the token as the password (any user name), which is what a browser sends once its login prompt
    /// is filled in, so the dashboard can be opened in one.
    /// </summary>
    public bool Accepts(StringValues authorization)
    {
        Span<byte> presented = stackalloc byte[KeyDigest.Size];
        if (KeyDigest.TryBearer(authorization, presented))
        {
            return KeyDigest.Equal(presented, _expected);
        }

        if (authorization.Count != 1 || authorization[0] is not { } value || !value.StartsWith(BasicScheme, StringComparison.OrdinalIgnoreCase)
            || BasicPassword(value[BasicScheme.Length..].Trim()) is not { } password)
        {
            return false;
        }

        KeyDigest.Of(password, presented);
        return KeyDigest.Equal(presented, _expected);
    }

    /// <summary>Lets a request through when it carries the token; else answers 401 with a challenge and nothing about the token.</summary>
    public async Task AuthorizeAsync(HttpContext context, RequestDelegate next)
    {
        if (Accepts(context.Request.Headers.Authorization))
        {
            await next(context);
            return;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        // Two challenges: tools send the bearer token; a browser shows its login prompt for the second.
        response.Headers.WWWAuthenticate = new StringValues(["Bearer", "Basic realm=\"inference-gateway admin\", charset=\"UTF-8\""]);
        response.Headers.CacheControl = "no-store";
        response.ContentType = "text/plain; charset=utf-8";
        await response.WriteAsync("unauthorized: send Authorization: Bearer <admin token>\n", context.RequestAborted);
    }

    /// <summary>The password of a Basic credential (base64 of <c>user:password</c>), or null when it is not one.</summary>
    private static string? BasicPassword(string encoded)
    {
        var bytes = new byte[(encoded.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(encoded, bytes, out var length))
        {
            return null;
        }

        var pair = Encoding.UTF8.GetString(bytes, 0, length);
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : pair[(colon + 1)..];
    }
}
