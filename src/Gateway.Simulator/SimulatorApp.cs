using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Simulator.Api;
using Gateway.Simulator.Engine;
using Gateway.Simulator.Options;
using Gateway.Simulator.Telemetry;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Simulator;

/// <summary>Builds the simulator's web application: vLLM's OpenAI-compatible routes on Kestrel.</summary>
internal static class SimulatorApp
{
    /// <summary>The vLLM version the simulator reports on <c>/version</c>.</summary>
    public const string VllmVersion = "0.11.0";

    public static WebApplication Build(SimulatorOptions options)
    {
        // Configured by flags alone: no reloading of appsettings.json, which makes the host watch the whole
        // working directory tree (from / that is 45,000 inotify watches and 25 MB more memory).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        var certificate = options.SslCertFile is { } certFile ? X509Certificate2.CreateFromPemFile(certFile, options.SslKeyFile) : null;
        builder.WebHost.UseUrls(Url(certificate is null ? "http" : "https", options.Host, options.Port));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (certificate is not null)
            {
                kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
            }
        });
        if (certificate is not null)
        {
            // The slim builder leaves HTTPS out unless asked.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        var time = TimeProvider.System;
        var scheduler = new SequenceScheduler(options);
        var metrics = new SimulatorMetrics(options, scheduler);
        var startup = new StartupGate(options, time);
        var failures = new FailureInjector(options, new Random(options.Seed));
        var completions = new CompletionEndpoint(options, scheduler, new LatencyModel(options), failures, startup, metrics, time);

        var app = builder.Build();
        if (options.OtlpTracesEndpoint is not null)
        {
            // First, so a key or rate refusal is an error on the request's span too; disposed once the host has
            // stopped, which exports the spans still waiting in the batch.
            var tracing = new LlmRequestTracing(options);
            app.Use(tracing.InvokeAsync);
            app.Lifetime.ApplicationStopped.Register(tracing.Dispose);
        }

        var guard = new ApiGuard(options);
        if (guard.IsActive)
        {
            app.Use(guard.InvokeAsync);
            app.Lifetime.ApplicationStopped.Register(guard.Dispose);
        }

        app.MapPost("/v1/chat/completions", context => completions.HandleAsync(context, EndpointKind.Chat));
        app.MapPost("/v1/completions", context => completions.HandleAsync(context, EndpointKind.Text));
        app.MapGet("/v1/models", context => WriteModelsAsync(context.Response, options, time));
        app.MapGet("/health", context =>
        {
            // vLLM answers an empty 200 once the engine is up.
            context.Response.StatusCode = startup.IsReady ? 200 : 503;
            return Task.CompletedTask;
        });
        if (options.FailureControl)
        {
            var control = new FailureControlEndpoint(failures);
            app.MapGet(FailureControlEndpoint.Path, control.GetAsync);
            app.MapPut(FailureControlEndpoint.Path, control.PutAsync);
        }

        app.MapGet("/version", context => WriteJsonAsync(context.Response, json => json.WriteString("version"u8, VllmVersion)));
        app.MapGet("/metrics", context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return context.Response.WriteAsync(metrics.Render());
        });
        return app;
    }

    /// <summary>The first address Kestrel listens on, with the real port when 0 was asked for.</summary>
    public static string ListeningAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    private static string Url(string scheme, string host, int port) =>
        host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"{scheme}://[{host}]:{port}" : $"{scheme}://{host}:{port}";

    private static Task WriteModelsAsync(HttpResponse response, SimulatorOptions options, TimeProvider time) =>
        WriteJsonAsync(response, json =>
        {
            json.WriteString("object"u8, "list"u8);
            json.WriteStartArray("data"u8);
            var created = time.GetUtcNow().ToUnixTimeSeconds();
            foreach (var name in options.ServedModelNames)
            {
                json.WriteStartObject();
                json.WriteString("id"u8, name);
                json.WriteString("object"u8, "model"u8);
                json.WriteNumber("created"u8, created);
                json.WriteString("owned_by"u8, "vllm"u8);
                json.WriteString("root"u8, options.ServedModelNames[0]);
                json.WriteNull("parent"u8);
                json.WriteNumber("max_model_len"u8, options.MaxModelLen);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });

    private static async Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> writeProperties)
    {
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            writeProperties(json);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync();
    }
}
