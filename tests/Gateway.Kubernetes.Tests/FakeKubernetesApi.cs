using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// A Kubernetes API server faked in process, because no API server (nor kind, nor minikube) exists on the machines
/// these tests run on. It serves exactly what discovery uses, in the real wire format: EndpointSlice lists (with a
/// resourceVersion) and watches (newline-delimited <c>{"type","object"}</c> events on a response kept open, replayed
/// from the resourceVersion asked for), nodes and pods. The KubernetesClient library talks to it over loopback HTTP.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, JsonObject> _slices = new(StringComparer.Ordinal);
    private readonly List<(long Version, string Line)> _events = [];
    private readonly List<Channel<string>> _watchers = [];
    private readonly Dictionary<string, JsonObject> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _pods = new(StringComparer.Ordinal);
    private long _version = 100;
    private int _lists;

    private FakeKubernetesApi(WebApplication app) => _app = app;

    /// <summary>The API server's address, for <c>KubernetesClientConfiguration.Host</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>EndpointSlice lists served so far (the first sync, then one per resync or broken watch).</summary>
    public int ListCount => Volatile.Read(ref _lists);

    /// <summary>Watches open now.</summary>
    public int WatchCount
    {
        get
        {
            lock (_lock)
            {
                return _watchers.Count;
            }
        }
    }

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var api = new FakeKubernetesApi(app);
        app.MapGet("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", api.EndpointSlicesAsync);
        app.MapGet("/api/v1/nodes/{name}", (string name) => api.Read(api._nodes, name, "nodes"));
        app.MapGet("/api/v1/namespaces/{ns}/pods/{name}", (string ns, string name) => api.Read(api._pods, $"{ns}/{name}", "pods"));
        await app.StartAsync();
        api.Url = app.Urls.First();
        return api;
    }

    public void AddNode(string name, string poolLabel, string poolId)
    {
        lock (_lock)
        {
            _nodes[name] = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Node",
                ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { [poolLabel] = poolId, ["kubernetes.io/hostname"] = name } },
            };
        }
    }

    public void AddPod(string ns, string name, string poolLabel, string poolId)
    {
        lock (_lock)
        {
            _pods[$"{ns}/{name}"] = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { [poolLabel] = poolId } },
            };
        }
    }

    /// <summary>Creates or replaces a slice and tells every watcher (ADDED or MODIFIED).</summary>
    public void Apply(JsonObject slice) => Change(slice, deleted: false, silently: false);

    /// <summary>Deletes a slice and tells every watcher (DELETED).</summary>
    public void Delete(string name)
    {
        lock (_lock)
        {
            Change(_slices[name], deleted: true, silently: false);
        }
    }

    /// <summary>Replaces a slice without a watch event, as when an event is lost: only a re-list sees it.</summary>
    public void ApplySilently(JsonObject slice) => Change(slice, deleted: false, silently: true);

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Change(JsonObject slice, bool deleted, bool silently)
    {
        lock (_lock)
        {
            var name = (string)slice["metadata"]!["name"]!;
            var version = ++_version;
            slice = (JsonObject)slice.DeepClone();
            slice["metadata"]!["resourceVersion"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var type = deleted ? "DELETED" : _slices.ContainsKey(name) ? "MODIFIED" : "ADDED";
            if (deleted)
            {
                _slices.Remove(name);
            }
            else
            {
                _slices[name] = slice;
            }

            if (silently)
            {
                return;
            }

            var line = new JsonObject { ["type"] = type, ["object"] = slice }.ToJsonString();
            _events.Add((version, line));
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(line);
            }
        }
    }

    private async Task EndpointSlicesAsync(HttpContext context, string ns)
    {
        var selector = context.Request.Query["labelSelector"].ToString();
        if (context.Request.Query["watch"] == "true")
        {
            await WatchAsync(context, ns, selector);
            return;
        }

        Interlocked.Increment(ref _lists);
        string body;
        lock (_lock)
        {
            var items = new JsonArray();
            foreach (var slice in _slices.Values)
            {
                if (Matches(slice, ns, selector))
                {
                    items.Add(slice.DeepClone());
                }
            }

            body = new JsonObject
            {
                ["apiVersion"] = "discovery.k8s.io/v1",
                ["kind"] = "EndpointSliceList",
                ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                ["items"] = items,
            }.ToJsonString();
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    private async Task WatchAsync(HttpContext context, string ns, string selector)
    {
        var channel = Channel.CreateUnbounded<string>();
        lock (_lock)
        {
            // Replays what happened after the version the client listed, as the API server's watch cache does.
            var from = long.Parse(context.Request.Query["resourceVersion"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (version, line) in _events)
            {
                if (version > from)
                {
                    channel.Writer.TryWrite(line);
                }
            }

            _watchers.Add(channel);
        }

        try
        {
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(context.RequestAborted);
            await foreach (var line in channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                var type = System.Text.Json.JsonDocument.Parse(line);
                var slice = (JsonObject)JsonNode.Parse(type.RootElement.GetProperty("object").GetRawText())!;
                if (!Matches(slice, ns, selector))
                {
                    continue;
                }

                await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The client closed the watch (a resync, or it stopped).
        }
        finally
        {
            lock (_lock)
            {
                _watchers.Remove(channel);
            }
        }
    }

    private IResult Read(Dictionary<string, JsonObject> objects, string key, string kind)
    {
        lock (_lock)
        {
            if (objects.TryGetValue(key, out var found))
            {
                return Results.Text(found.ToJsonString(), "application/json");
            }
        }

        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["status"] = "Failure",
            ["message"] = $"{kind} \"{key}\" not found",
            ["reason"] = "NotFound",
            ["code"] = 404,
        };
        return Results.Text(status.ToJsonString(), "application/json", statusCode: 404);
    }

    /// <summary>Supports the one selector form discovery uses: <c>key=value</c>.</summary>
    private static bool Matches(JsonObject slice, string ns, string selector)
    {
        var metadata = slice["metadata"]!;
        if ((string?)metadata["namespace"] != ns)
        {
            return false;
        }

        var equals = selector.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && (string?)metadata["labels"]?[selector[..equals]] == selector[(equals + 1)..];
    }
}
