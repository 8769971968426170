using System.Text.Json.Nodes;

namespace Gateway.Kubernetes.Tests;

/// <summary>EndpointSlice objects in the shape the API server sends them.</summary>
internal static class EndpointSlices
{
    public static JsonObject Slice(string name, string service, params JsonObject[] endpoints) => new()
    {
        ["apiVersion"] = "discovery.k8s.io/v1",
        ["kind"] = "EndpointSlice",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "default",
            ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = service, ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io" },
        },
        ["addressType"] = "IPv4",
        ["endpoints"] = new JsonArray([.. endpoints]),
        ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 8000, ["protocol"] = "TCP" }),
    };

    public static JsonObject Endpoint(string ip, string node, string pod, bool ready = true, bool terminating = false) => new()
    {
        ["addresses"] = new JsonArray(ip),
        ["conditions"] = new JsonObject { ["ready"] = ready, ["serving"] = ready || terminating, ["terminating"] = terminating },
        ["nodeName"] = node,
        ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["namespace"] = "default", ["name"] = pod, ["uid"] = Guid.NewGuid().ToString() },
    };
}
