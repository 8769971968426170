using Gateway.Simulator.Options;

namespace Gateway.Simulator;

/// <summary>
/// Entry point. A named class rather than top-level statements, so projects that reference the simulator
/// to ship its binary beside them (the gateway's embedded demo) do not see two global <c>Program</c> types.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var parsed = SimulatorCommandLine.Parse(args, Environment.GetEnvironmentVariable);
        if (parsed.HelpRequested)
        {
            Console.Out.Write(SimulatorCommandLine.Usage());
            return 0;
        }

        if (parsed.Options is not { } options)
        {
            Console.Error.WriteLine("error: " + parsed.Error);
            Console.Error.WriteLine("Run with --help to see every flag.");
            return 2;
        }

        WebApplication built;
        try
        {
            built = SimulatorApp.Build(options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            Console.Error.WriteLine($"error: cannot read --ssl-certfile {options.SslCertFile} or --ssl-keyfile {options.SslKeyFile}: {e.Message}");
            return 2;
        }

        await using var app = built;
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: cannot listen on {options.Host}:{options.Port}: {e.Message}");
            return 1;
        }

        // Tests and the gateway read this line to learn the port when --port 0 was given.
        Console.Out.WriteLine($"Simulator listening on {SimulatorApp.ListeningAddress(app)} (model {options.ServedModelNames[0]}, max-num-seqs {options.MaxNumSeqs})");
        Console.Out.Flush();
        await app.WaitForShutdownAsync();
        return 0;
    }
}
