using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// <c>otlp-sink</c>: an OTLP/HTTP collector that takes every export (reading its body, answering 200) and keeps
/// nothing but counts, for the overhead benchmark's run with tracing on. It prints
/// <c>OTLP sink listening on http://127.0.0.1:PORT</c>, runs until SIGTERM or Ctrl+C, then prints the exports and
/// bytes it took per path.
/// </summary>
internal static class OtlpSink
{
    public static async Task<int> RunAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var counts = new Dictionary<string, (long Exports, long Bytes)>();
        var buffer = new byte[64 * 1024];
        app.Run(async context =>
        {
            long bytes = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                bytes += read;
            }

            lock (counts)
            {
                var path = context.Request.Path.Value ?? "/";
                var (exports, total) = counts.GetValueOrDefault(path);
                counts[path] = (exports + 1, total + bytes);
            }

            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.Out.WriteLine($"OTLP sink listening on {address}");
        await app.WaitForShutdownAsync(CancellationToken.None);
        lock (counts)
        {
            foreach (var (path, (exports, bytes)) in counts)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{path}: {exports} exports, {bytes} bytes"));
            }
        }

        return 0;
    }
}
