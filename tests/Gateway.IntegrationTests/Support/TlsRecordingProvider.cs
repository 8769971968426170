using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Providers.Hosted;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A hosted OpenAI-compatible API as a test sees one: real Kestrel over TLS on <c>127.0.0.1:0</c>, under a base path
/// (<c>/compatible-mode/v1</c>, as Alibaba Model Studio's), with a certificate made for the test (its PEM in
/// <see cref="CaFile"/>). It records each request's headers and body, and answers with the model the request named, as
/// a provider does: a plain answer, or a stream whose every event names the model, ending with a usage event. Set
/// <see cref="Error"/> to answer an error instead.
/// </summary>
internal sealed class TlsRecordingProvider : IAsyncDisposable
{
    public const int PromptTokens = 7;
    public const int CompletionTokens = 3;

    private readonly List<(Dictionary<string, string> Headers, JsonObject Body)> _requests = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("tls-provider-").FullName;
    private WebApplication _app = null!;

    /// <summary>The base URL a provider pool is configured with, e.g. <c>https://127.0.0.1:41234/compatible-mode/v1</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The PEM of the certificate it serves, the one a pool's <c>CaFile</c> trusts.</summary>
    public string CaFile { get; private set; } = "";

    /// <summary>When set, every request is answered with this status and body.</summary>
    public (int Status, string Body)? Error { get; set; }

    /// <summary>The requests received so far: headers (several values joined by ", ") and the JSON body.</summary>
    public IReadOnlyList<(Dictionary<string, string> Headers, JsonObject Body)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<TlsRecordingProvider> StartAsync()
    {
        var provider = new TlsRecordingProvider();
        var made = StandInCertificate.Make(provider._folder, "provider", "127.0.0.1");
        provider.CaFile = made.CertFile;
        var certificate = X509Certificate2.CreateFromPemFile(made.CertFile, made.KeyFile);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        provider._app = builder.Build();
        provider._app.MapPost("/compatible-mode/v1/chat/completions", provider.AnswerAsync);
        await provider._app.StartAsync();
        var address = provider._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        provider.BaseUrl = address.TrimEnd('/') + "/compatible-mode/v1";
        return provider;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in context.Request.Headers)
        {
            headers[header.Key] = header.Value.ToString();
        }

        lock (_requests)
        {
            _requests.Add((headers, body));
        }

        if (Error is { } error)
        {
            context.Response.StatusCode = error.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(error.Body);
            return;
        }

        var model = body["model"]!.GetValue<string>();
        var usage = new JsonObject { ["prompt_tokens"] = PromptTokens, ["completion_tokens"] = CompletionTokens, ["total_tokens"] = PromptTokens + CompletionTokens };
        context.Response.Headers["x-ratelimit-remaining-requests"] = "41";
        if (body["stream"]?.GetValue<bool>() != true)
        {
            var answer = new JsonObject
            {
                ["id"] = "chatcmpl-1",
                ["object"] = "chat.completion",
                ["created"] = 1,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "Said \"model\": \"" + model + "\" twice" },
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = usage,
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJsonString());
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var piece in new[] { "Hello", " from", " the provider" })
        {
            // Spaces after the colons, as some providers write: the rewrite must not depend on compact JSON.
            var chunk = $"{{\"id\": \"chatcmpl-1\", \"object\": \"chat.completion.chunk\", \"created\": 1, \"model\": \"{model}\", " +
                $"\"choices\": [{{\"index\": 0, \"delta\": {{\"content\": {JsonSerializer.Serialize(piece)}}}, \"finish_reason\": null}}]}}";
            await WriteSplitAsync(context, $"data: {chunk}\n\n");
        }

        var last = new JsonObject { ["id"] = "chatcmpl-1", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model, ["choices"] = new JsonArray(), ["usage"] = usage };
        await WriteSplitAsync(context, $"data: {last.ToJsonString()}\n\ndata: [DONE]\n\n");
    }

    /// <summary>Writes an event in two flushed halves, cut inside the model name, so the gateway sees the name across two reads.</summary>
    private static async Task WriteSplitAsync(HttpContext context, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var cut = text.IndexOf("\"model\"", StringComparison.Ordinal) + 12;
        await context.Response.Body.WriteAsync(bytes.AsMemory(0, cut));
        await context.Response.Body.FlushAsync();
        await Task.Delay(5);
        await context.Response.Body.WriteAsync(bytes.AsMemory(cut));
        await context.Response.Body.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
