using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// A Kubernetes API server faked in process, because no API server (nor kind, nor minikube) exists on the machines
/// these tests run on. It serves exactly what the gateway uses, in the real wire format: EndpointSlice lists (with a
/// resourceVersion) and watches (newline-delimited <c>{"type","object"}</c> events on a response kept open, replayed
/// from the resourceVersion asked for, or an ERROR event with a 410 Status), nodes and pods (read, merge-patched),
/// Deployment scale and KServe InferenceService merge patches, and Leases (read, create, replace with the API
/// server's optimistic concurrency: a stale resourceVersion is 409 Conflict). Tests can make chosen requests fail
/// (a status, with <c>Retry-After</c> if asked) or hang, as an overloaded API server does. The KubernetesClient
/// library talks to it over loopback HTTP; every request is recorded, headers and body, for the tests to check.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    /// <summary>The API server's last word on a watch whose resourceVersion is too old.</summary>
    private static readonly string ExpiredLine = new JsonObject
    {
        ["type"] = "ERROR",
        ["object"] = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = "too old resource version: 101 (2001)",
            ["reason"] = "Expired",
            ["code"] = 410,
        },
    }.ToJsonString();

    private readonly Lock _lock = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, JsonObject> _slices = new(StringComparer.Ordinal);
    private readonly List<(long Version, string Line)> _events = [];
    private readonly List<Channel<string>> _watchers = [];
    private readonly Dictionary<string, JsonObject> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _inferenceServices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _deployments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _leases = new(StringComparer.Ordinal);
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<Fault> _faults = [];
    private long _version = 100;
    private int _lists;
    private int _failingLists;
    private int _refusedWatches;

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

    /// <summary>Every request so far, in order of arrival.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The requests that changed something (PATCH, POST, PUT), leases left out unless asked for.</summary>
    public IReadOnlyList<RecordedRequest> Writes(bool leases = false) =>
        [.. Requests.Where(r => r.Method is "PATCH" or "POST" or "PUT" && (leases || !r.Path.Contains("/leases", StringComparison.Ordinal)))];

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var api = new FakeKubernetesApi(app);
        app.Use(api.RecordAsync);
        app.Use(api.InjectFaultsAsync);
        app.MapGet("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", api.EndpointSlicesAsync);
        app.MapGet("/api/v1/nodes/{name}", (string name) => api.Read(api._nodes, name, "nodes"));
        app.MapGet("/api/v1/namespaces/{ns}/pods/{name}", (string ns, string name) => api.Read(api._pods, $"{ns}/{name}", "pods"));
        app.MapPatch("/api/v1/namespaces/{ns}/pods/{name}", (string ns, string name, HttpContext context) => api.MergePatchAsync(api._pods, $"{ns}/{name}", "pods", context));
        app.MapPatch("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", (string ns, string name, HttpContext context) => api.PatchScaleAsync(ns, name, context));
        app.MapGet("/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices/{name}", (string ns, string name) => api.Read(api._inferenceServices, $"{ns}/{name}", "inferenceservices.serving.kserve.io"));
        app.MapPatch("/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices/{name}",
            (string ns, string name, HttpContext context) => api.MergePatchAsync(api._inferenceServices, $"{ns}/{name}", "inferenceservices.serving.kserve.io", context));
        app.MapGet("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}", (string ns, string name) => api.Read(api._leases, $"{ns}/{name}", "leases.coordination.k8s.io"));
        app.MapPost("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", (string ns, HttpContext context) => api.CreateLeaseAsync(ns, context));
        app.MapPut("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}", (string ns, string name, HttpContext context) => api.ReplaceLeaseAsync(ns, name, context));
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

    /// <summary>A Deployment whose scale subresource answers with <paramref name="replicas"/> until patched.</summary>
    public void AddDeployment(string ns, string name, int replicas)
    {
        lock (_lock)
        {
            _deployments[$"{ns}/{name}"] = new JsonObject
            {
                ["apiVersion"] = "autoscaling/v1",
                ["kind"] = "Scale",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["resourceVersion"] = NextVersion() },
                ["spec"] = new JsonObject { ["replicas"] = replicas },
                ["status"] = new JsonObject { ["replicas"] = replicas, ["selector"] = $"app={name}" },
            };
        }
    }

    /// <summary>A KServe InferenceService whose predictor has the given replica bounds.</summary>
    public void AddInferenceService(string ns, string name, int minReplicas, int maxReplicas)
    {
        lock (_lock)
        {
            _inferenceServices[$"{ns}/{name}"] = new JsonObject
            {
                ["apiVersion"] = "serving.kserve.io/v1beta1",
                ["kind"] = "InferenceService",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["resourceVersion"] = NextVersion() },
                ["spec"] = new JsonObject
                {
                    ["predictor"] = new JsonObject
                    {
                        ["minReplicas"] = minReplicas,
                        ["maxReplicas"] = maxReplicas,
                        ["model"] = new JsonObject { ["modelFormat"] = new JsonObject { ["name"] = "huggingface" } },
                    },
                },
            };
        }
    }

    /// <summary>A copy of a stored object, as a GET would return it; null when there is none.</summary>
    public JsonObject? Find(string resource, string ns, string name)
    {
        lock (_lock)
        {
            var objects = resource switch
            {
                "pods" => _pods,
                "inferenceservices" => _inferenceServices,
                "deployments/scale" => _deployments,
                "leases" => _leases,
                _ => throw new ArgumentOutOfRangeException(nameof(resource), resource, "not served by the fake"),
            };
            return objects.TryGetValue($"{ns}/{name}", out var found) ? (JsonObject)found.DeepClone() : null;
        }
    }

    /// <summary>The next <paramref name="count"/> EndpointSlice lists fail with 500, as from an overloaded API server.</summary>
    public void FailNextLists(int count) => Interlocked.Exchange(ref _failingLists, count);

    /// <summary>The next <paramref name="count"/> watch requests are refused with HTTP 410 Gone, their resourceVersion being too old.</summary>
    public void RefuseNextWatches(int count) => Interlocked.Exchange(ref _refusedWatches, count);

    /// <summary>
    /// The next <paramref name="count"/> <paramref name="method"/> requests to <paramref name="path"/> (watches aside)
    /// are answered <paramref name="status"/> with a Status body, and a <c>Retry-After</c> when
    /// <paramref name="retryAfterSeconds"/> is given, instead of being served.
    /// </summary>
    public void FailNext(string method, string path, int count, int status, int? retryAfterSeconds = null)
    {
        lock (_lock)
        {
            _faults.Add(new Fault(method, path, count, status, retryAfterSeconds, Stall: null));
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> <paramref name="method"/> requests to <paramref name="path"/> (watches aside)
    /// get no answer for <paramref name="stall"/>, as from an API server that hangs, then are served; a client that
    /// gives up first closes the request.
    /// </summary>
    public void StallNext(string method, string path, int count, TimeSpan stall)
    {
        lock (_lock)
        {
            _faults.Add(new Fault(method, path, count, Status: 0, RetryAfterSeconds: null, stall));
        }
    }

    /// <summary>The requests so far with this method and path, watches and lists alike.</summary>
    public int CountOf(string method, string path) => Requests.Count(r => r.Method == method && r.Path == path);

    /// <summary>A Lease as another gateway left it: held by <paramref name="holder"/>, renewed at <paramref name="renewed"/>.</summary>
    public void AddLease(string ns, string name, string holder, int durationSeconds, DateTimeOffset renewed)
    {
        lock (_lock)
        {
            var time = renewed.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            _leases[$"{ns}/{name}"] = new JsonObject
            {
                ["apiVersion"] = "coordination.k8s.io/v1",
                ["kind"] = "Lease",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["resourceVersion"] = NextVersion() },
                ["spec"] = new JsonObject
                {
                    ["holderIdentity"] = holder,
                    ["leaseDurationSeconds"] = durationSeconds,
                    ["acquireTime"] = time,
                    ["renewTime"] = time,
                    ["leaseTransitions"] = 0,
                },
            };
        }
    }

    /// <summary>
    /// Watches open now end the way the API server ends a watch whose resourceVersion has become too old: an ERROR
    /// event carrying a 410 Gone Status, then the end of the response.
    /// </summary>
    public void ExpireWatches()
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(ExpiredLine);
            }
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
        if (Interlocked.Decrement(ref _failingLists) >= 0)
        {
            await Status(500, "InternalError", "etcdserver: request timed out").ExecuteAsync(context);
            return;
        }

        Interlocked.Exchange(ref _failingLists, 0);
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
        if (Interlocked.Decrement(ref _refusedWatches) >= 0)
        {
            await Status(410, "Expired", "too old resource version: 101 (2001)").ExecuteAsync(context);
            return;
        }

        Interlocked.Exchange(ref _refusedWatches, 0);
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
                if (ReferenceEquals(line, ExpiredLine))
                {
                    // The API server ends the watch after the error; the client must list again.
                    await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    return;
                }

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

        return Status(404, "NotFound", $"{kind} \"{key}\" not found");
    }

    private static IResult Status(int code, string reason, string message)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        return Results.Text(status.ToJsonString(), "application/json", statusCode: code);
    }

    private string NextVersion() => (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        context.Request.EnableBuffering();
        using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        context.Request.Body.Position = 0;
        lock (_lock)
        {
            _requests.Add(new RecordedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                context.Request.ContentType,
                context.Request.Headers.Authorization.ToString(),
                body));
        }

        await next(context);
    }

    private async Task InjectFaultsAsync(HttpContext context, RequestDelegate next)
    {
        Fault? fault = null;
        if (context.Request.Query["watch"] != "true")
        {
            lock (_lock)
            {
                var index = _faults.FindIndex(f => f.Method == context.Request.Method && f.Path == context.Request.Path.Value);
                if (index >= 0)
                {
                    fault = _faults[index];
                    _faults[index] = fault with { Count = fault.Count - 1 };
                    if (fault.Count == 1)
                    {
                        _faults.RemoveAt(index);
                    }
                }
            }
        }

        if (fault is null)
        {
            await next(context);
            return;
        }

        if (fault.Stall is { } stall)
        {
            try
            {
                await Task.Delay(stall, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client gave up on the request.
                return;
            }

            await next(context);
            return;
        }

        if (fault.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var reason = fault.Status switch
        {
            403 => "Forbidden",
            404 => "NotFound",
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            _ => "InternalError",
        };
        await Status(fault.Status, reason, $"injected by the test: {fault.Status}").ExecuteAsync(context);
    }

    /// <summary>Applies an RFC 7386 JSON merge patch, as the API server does for <c>application/merge-patch+json</c>.</summary>
    private async Task<IResult> MergePatchAsync(Dictionary<string, JsonObject> objects, string key, string kind, HttpContext context)
    {
        if (context.Request.ContentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
        {
            return Status(415, "UnsupportedMediaType", $"the fake serves merge patches only, got {context.Request.ContentType}");
        }

        var patch = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!;
        lock (_lock)
        {
            if (!objects.TryGetValue(key, out var found))
            {
                return Status(404, "NotFound", $"{kind} \"{key}\" not found");
            }

            Merge(found, patch);
            found["metadata"]!["resourceVersion"] = NextVersion();
            return Results.Text(found.ToJsonString(), "application/json");
        }
    }

    private async Task<IResult> PatchScaleAsync(string ns, string name, HttpContext context)
    {
        var result = await MergePatchAsync(_deployments, $"{ns}/{name}", "deployments.apps", context);
        lock (_lock)
        {
            if (_deployments.TryGetValue($"{ns}/{name}", out var scale))
            {
                scale["status"]!["replicas"] = scale["spec"]!["replicas"]!.GetValue<int>();
            }
        }

        return result;
    }

    private async Task<IResult> CreateLeaseAsync(string ns, HttpContext context)
    {
        var lease = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!;
        var name = (string)lease["metadata"]!["name"]!;
        lock (_lock)
        {
            if (_leases.ContainsKey($"{ns}/{name}"))
            {
                return Status(409, "AlreadyExists", $"leases.coordination.k8s.io \"{name}\" already exists");
            }

            lease["metadata"]!["namespace"] = ns;
            lease["metadata"]!["resourceVersion"] = NextVersion();
            _leases[$"{ns}/{name}"] = lease;
            return Results.Text(lease.ToJsonString(), "application/json", statusCode: 201);
        }
    }

    /// <summary>A replace must carry the stored resourceVersion: otherwise someone wrote in between, and it is 409.</summary>
    private async Task<IResult> ReplaceLeaseAsync(string ns, string name, HttpContext context)
    {
        var lease = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!;
        lock (_lock)
        {
            if (!_leases.TryGetValue($"{ns}/{name}", out var stored))
            {
                return Status(404, "NotFound", $"leases.coordination.k8s.io \"{name}\" not found");
            }

            var sent = (string?)lease["metadata"]?["resourceVersion"];
            if (sent != (string?)stored["metadata"]!["resourceVersion"])
            {
                return Status(409, "Conflict",
                    $"Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
            }

            lease["metadata"]!["resourceVersion"] = NextVersion();
            _leases[$"{ns}/{name}"] = lease;
            return Results.Text(lease.ToJsonString(), "application/json");
        }
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                Merge(targetObject, patchObject);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
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

/// <summary>A failure the fake serves instead of the real answer, <see cref="Count"/> more times.</summary>
internal sealed record Fault(string Method, string Path, int Count, int Status, int? RetryAfterSeconds, TimeSpan? Stall);

/// <summary>One request the fake API server received.</summary>
internal sealed record RecordedRequest(string Method, string Path, string Query, string? ContentType, string Authorization, string Body);
