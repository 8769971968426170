using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;

namespace Gateway.Providers.Hosted;

/// <summary>
/// The certificates each provider pool's TLS connections are validated against, read once at start: the roots of
/// <see cref="ProviderSourceOptions.CaFile"/> (a private CA) in place of the system's, or, for a
/// <see cref="ProviderSourceOptions.StandIn"/>, a certificate made for this run for the loopback host, written with its
/// key to a folder only this user can read, for the stand-in to serve, with an API key made for this run when the pool
/// names none. Pools with neither trust the system's roots. Host names are checked in every case.
/// </summary>
internal sealed class ProviderTrust : IDisposable
{
    private readonly Dictionary<PoolOptions, X509Certificate2Collection> _roots;
    private readonly Dictionary<PoolOptions, StandInCertificate> _standIns;
    private readonly string? _folder;

    private ProviderTrust(Dictionary<PoolOptions, X509Certificate2Collection> roots, Dictionary<PoolOptions, StandInCertificate> standIns, string? folder)
    {
        _roots = roots;
        _standIns = standIns;
        _folder = folder;
    }

    /// <summary>
    /// The trust of every provider pool of <paramref name="options"/> (which are valid); throws
    /// <see cref="GatewayConfigurationException"/> naming the <c>CaFile</c> key of each file that cannot be read or holds no certificate.
    /// </summary>
    public static ProviderTrust Read(GatewayOptions options)
    {
        var roots = new Dictionary<PoolOptions, X509Certificate2Collection>();
        var standIns = new Dictionary<PoolOptions, StandInCertificate>();
        var errors = new List<string>();
        string? folder = null;
        for (var s = 0; s < options.Services.Count; s++)
        {
            var pools = options.Services[s].Pools;
            for (var p = 0; p < pools.Count; p++)
            {
                if (pools[p].Provider is not { } provider)
                {
                    continue;
                }

                if (provider.CaFile is { } file)
                {
                    var key = $"{GatewayOptions.SectionName}:Services:{s}:Pools:{p}:Provider:CaFile";
                    var certificates = new X509Certificate2Collection();
                    try
                    {
                        certificates.ImportFromPemFile(file);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
                    {
                        errors.Add($"{key}: cannot read the provider's CA certificate from '{file}': {e.Message}");
                        continue;
                    }

                    if (certificates.Count == 0)
                    {
                        errors.Add($"{key}: '{file}' holds no PEM certificate");
                        continue;
                    }

                    roots[pools[p]] = certificates;
                }
                else if (provider.StandIn is not null)
                {
                    folder ??= Directory.CreateTempSubdirectory("gateway-stand-in-").FullName;
                    var made = StandInCertificate.Make(folder, $"{options.Services[s].Name}-{pools[p].Name}", new Uri(provider.BaseUrl).Host)
                        with { ApiKey = provider is { ApiKeyEnv: null, ApiKeyFile: null } ? Convert.ToHexString(RandomNumberGenerator.GetBytes(24)) : null };
                    standIns[pools[p]] = made;
                    roots[pools[p]] = [made.Certificate];
                }
            }
        }

        return errors.Count > 0 ? throw new GatewayConfigurationException(errors) : new ProviderTrust(roots, standIns, folder);
    }

    /// <summary>The roots <paramref name="pool"/>'s API must chain to, or null to trust the system's.</summary>
    public X509Certificate2Collection? RootsFor(PoolOptions pool) => _roots.GetValueOrDefault(pool);

    /// <summary>The certificate and key files made for <paramref name="pool"/>'s stand-in, or null when it has none.</summary>
    public StandInCertificate? StandInFor(PoolOptions pool) => _standIns.GetValueOrDefault(pool);

    public void Dispose()
    {
        foreach (var roots in _roots.Values)
        {
            foreach (var certificate in roots)
            {
                certificate.Dispose();
            }
        }

        if (_folder is not null)
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // A stand-in still holding a file; the folder is the system's temporary one.
            }
        }
    }
}

/// <summary>A certificate made for a stand-in provider: its PEM files, and the certificate the gateway trusts.</summary>
internal sealed record StandInCertificate(string CertFile, string KeyFile, X509Certificate2 Certificate)
{
    /// <summary>The API key made for the stand-in when its pool names none; never logged, never in JSON.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Makes a self-signed certificate for <paramref name="host"/> (and localhost, 127.0.0.1, ::1), valid a week, in <paramref name="folder"/>.</summary>
    public static StandInCertificate Make(string folder, string name, string host)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddIpAddress(System.Net.IPAddress.IPv6Loopback);
        if (host is not ("localhost" or "127.0.0.1" or "[::1]"))
        {
            names.AddDnsName(host);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        // A certificate is checked against the wall clock, whatever clock the gateway runs on.
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));
        var certFile = Path.Combine(folder, name + ".crt");
        var keyFile = Path.Combine(folder, name + ".key");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return new StandInCertificate(certFile, keyFile, X509CertificateLoader.LoadCertificate(certificate.RawData));
    }
}
