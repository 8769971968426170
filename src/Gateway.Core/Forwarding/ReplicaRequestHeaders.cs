using System.Net;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Primitives;

namespace Gateway.Forwarding;

/// <summary>
/// The headers a replica gets beyond what YARP copies, done as a proxy should (RFC 9110 section 7.6.1): the headers the
/// client's <c>Connection</c> header names are hop-by-hop and dropped (YARP drops only the fixed hop-by-hop set); the
/// client's credentials are never forwarded, the pool's own key (<see cref="BackendKeys"/>) goes instead; the replica gets its own authority as Host (unless
/// <see cref="ForwardingOptions.KeepClientHost"/>); <c>X-Forwarded-For</c>, <c>-Proto</c> and <c>-Host</c> say who
/// the client is, appended to the client's own only when its connection comes from
/// <see cref="ForwardedHeadersOptions.KnownNetworks"/>; <c>x-request-id</c> is the request's <see cref="RequestId"/>.
/// </summary>
internal sealed class ReplicaRequestHeaders
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";
    private const string ForwardedHost = "X-Forwarded-Host";

    /// <summary>What an untrusted client may not say about the hops before the gateway; the gateway writes the first three itself.</summary>
    private static readonly string[] ClientForwarded = [ForwardedFor, ForwardedProto, ForwardedHost, "X-Forwarded-Prefix", "Forwarded"];

    private readonly IPNetwork[] _knownNetworks;
    private readonly bool _keepClientHost;
    private readonly BackendKeys _backendKeys;

    public ReplicaRequestHeaders(ForwardingOptions forwarding, ForwardedHeadersOptions forwarded, BackendKeys backendKeys)
    {
        _keepClientHost = forwarding.KeepClientHost;
        _backendKeys = backendKeys;
        _knownNetworks = new IPNetwork[forwarded.KnownNetworks.Count];
        for (var i = 0; i < _knownNetworks.Length; i++)
        {
            // Validated at start, so Parse does not throw here.
            _knownNetworks[i] = IPNetwork.Parse(forwarded.KnownNetworks[i]);
        }
    }

    /// <summary>
    /// Rewrites the headers YARP copied from <paramref name="context"/>'s request onto <paramref name="proxyRequest"/>, bound
    /// for a replica of <paramref name="pool"/>.
    /// </summary>
    public void Apply(HttpContext context, HttpRequestMessage proxyRequest, Pool? pool)
    {
        var request = context.Request;
        var headers = proxyRequest.Headers;
        RemoveConnectionOptions(request.Headers.Connection, proxyRequest);

        // The gateway holds the replicas' credentials, if any; a client's key means nothing to a replica and must not leak to it.
        headers.Authorization = null;
        if (pool is not null && _backendKeys.AuthorizationFor(pool) is { } authorization)
        {
            headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (!_keepClientHost)
        {
            // No Host header: HttpClient sends the request address's authority, the replica's own.
            headers.Host = null;
        }

        var remote = context.Connection.RemoteIpAddress;
        if (remote is { IsIPv4MappedToIPv6: true })
        {
            remote = remote.MapToIPv4();
        }

        var trusted = remote is not null && IsKnown(remote);
        if (!trusted)
        {
            foreach (var name in ClientForwarded)
            {
                headers.Remove(name);
            }
        }

        Set(headers, ForwardedFor, request.Headers[ForwardedFor], remote?.ToString(), trusted);
        Set(headers, ForwardedProto, request.Headers[ForwardedProto], request.Scheme, trusted);
        Set(headers, ForwardedHost, request.Headers[ForwardedHost], request.Host.Value, trusted);
        headers.Remove(RequestId.HeaderName);
        headers.TryAddWithoutValidation(RequestId.HeaderName, context.TraceIdentifier);
    }

    /// <summary>Whether <paramref name="address"/> is in one of the known networks.</summary>
    public bool IsKnown(IPAddress address)
    {
        foreach (var network in _knownNetworks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The value for this hop, after the client's when it is trusted (a comma-separated list, oldest first).</summary>
    private static void Set(System.Net.Http.Headers.HttpRequestHeaders headers, string name, StringValues sent, string? value, bool trusted)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        headers.Remove(name);
        headers.TryAddWithoutValidation(name, trusted && !StringValues.IsNullOrEmpty(sent) ? string.Concat(sent.ToString(), ", ", value) : value);
    }

    /// <summary>
    /// Drops every header the client's <c>Connection</c> header names: they were meant for the gateway, not the
    /// replica. The usual tokens (<c>keep-alive</c>, <c>close</c>, <c>upgrade</c>) name headers YARP drops already, so
    /// they are skipped without making a string; another token costs one.
    /// </summary>
    private static void RemoveConnectionOptions(StringValues connection, HttpRequestMessage proxyRequest)
    {
        foreach (var value in connection)
        {
            if (value is null)
            {
                continue;
            }

            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var token = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (token.IsEmpty
                    || token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("close", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                // Contains first: Remove throws on a name that is no header name, and a client can write anything here.
                // Content headers (Content-Length, Content-Type) describe the body the gateway sends, so they stay.
                var name = token.ToString();
                if (proxyRequest.Headers.NonValidated.Contains(name))
                {
                    proxyRequest.Headers.Remove(name);
                }
            }
        }
    }
}
