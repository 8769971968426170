using Gateway.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Gateway.Hosting;

/// <summary>
/// The gateway's command line: <c>--config PATH</c> (default <c>config/gateway.json</c>; a relative path is looked for in
/// the working folder, then in the folders above it), then environment
/// variables (<c>Gateway__PublicUrl</c>) and <c>--Gateway:Key=value</c> arguments override the file. A bad
/// configuration stops the gateway with exit code 2 and one line per bad key. <c>hash-key</c> instead prints the hash
/// of an API key read from standard input (<see cref="HashKeyCommand"/>).
/// </summary>
public static class GatewayProgram
{
    /// <summary>The configuration file used when no <c>--config</c> is given, relative to the working folder.</summary>
    public const string DefaultConfigPath = "config/gateway.json";

    /// <summary>Exit code for a configuration or command-line error.</summary>
    public const int UsageError = 2;

    /// <summary>Runs the gateway; <paramref name="configure"/> adds what the host brings (replica providers outside the core).</summary>
    public static async Task<int> RunAsync(string[] args, Action<IServiceCollection>? configure = null)
    {
        if (args.Length > 0 && args[0] == HashKeyCommand.Name)
        {
            return HashKeyCommand.Run(args[1..]);
        }

        if (!TryReadConfigPath(args, out var configPath, out var explicitPath, out var rest, out var usageError))
        {
            Console.Error.WriteLine("error: " + usageError);
            return UsageError;
        }

        // A relative path the working folder lacks is looked for in the folders above it, as the default is: `dotnet run
        // --project src/Gateway -- --config config/examples/bridge.json` runs in the project's folder, not the root.
        if (!explicitPath || (!Path.IsPathRooted(configPath) && !File.Exists(configPath)))
        {
            configPath = FindAbove(configPath) ?? configPath;
        }

        if (!File.Exists(configPath))
        {
            Console.Error.WriteLine($"error: configuration file '{Path.GetFullPath(configPath)}' does not exist (give one with --config PATH)");
            return UsageError;
        }

        IConfiguration configuration;
        GatewayOptions options;
        try
        {
            configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.GetFullPath(configPath), optional: false, reloadOnChange: false)
                .AddEnvironmentVariables()
                .AddCommandLine(rest)
                .Build();
            options = GatewayConfiguration.Bind(configuration);
        }
        catch (GatewayConfigurationException e)
        {
            WriteConfigurationErrors(configPath, e.Errors);
            return UsageError;
        }
        catch (InvalidDataException e)
        {
            // A JSON syntax error in the file.
            WriteConfigurationErrors(configPath, [e.Message]);
            return UsageError;
        }

        WebApplication app;
        try
        {
            // Validates the options once, as it builds on them.
            app = GatewayApplication.Build(options, configuration, configure);
        }
        catch (GatewayConfigurationException e)
        {
            WriteConfigurationErrors(configPath, e.Errors);
            return UsageError;
        }

        await using var disposeApp = app;
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: cannot listen: {e.Message}");
            return 1;
        }
        catch (GatewayConfigurationException e)
        {
            // What only starting can find out: a stand-in provider's port taken by another program.
            WriteConfigurationErrors(configPath, e.Errors);
            return UsageError;
        }

        var listeners = app.Services.GetRequiredService<GatewayListeners>();
        Console.Out.WriteLine($"Gateway listening on {listeners.PublicAddress} (admin {listeners.AdminAddress}), configuration {configPath}");
        Console.Out.Flush();
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static void WriteConfigurationErrors(string path, IReadOnlyList<string> errors)
    {
        Console.Error.WriteLine($"error: invalid configuration ({path}):");
        foreach (var error in errors)
        {
            Console.Error.WriteLine("  " + error);
        }
    }

    /// <summary>
    /// <paramref name="relativePath"/> (<c>config/gateway.json</c> by default) in the working folder or the nearest folder
    /// above it: <c>dotnet run --project src/Gateway</c> runs in the project's folder, and the files are at the
    /// repository's root.
    /// </summary>
    private static string? FindAbove(string relativePath)
    {
        for (var folder = new DirectoryInfo(Directory.GetCurrentDirectory()); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool TryReadConfigPath(string[] args, out string path, out bool explicitPath, out string[] rest, out string? error)
    {
        path = DefaultConfigPath;
        explicitPath = false;
        error = null;
        var others = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--config")
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    rest = [];
                    error = "--config needs a path";
                    return false;
                }

                path = args[++i];
                explicitPath = true;
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                path = arg["--config=".Length..];
                explicitPath = true;
            }
            else
            {
                others.Add(arg);
            }
        }

        rest = [.. others];
        return true;
    }
}
