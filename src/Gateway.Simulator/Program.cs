using Gateway.Simulator;
using Gateway.Simulator.Options;

var parsed = SimulatorCommandLine.Parse(args);
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

await using var app = SimulatorApp.Build(options);
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
