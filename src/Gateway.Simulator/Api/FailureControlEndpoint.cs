using System.Text.Json;
using Gateway.Simulator.Options;

namespace Gateway.Simulator.Api;

/// <summary>
/// <c>/simulator/failure-injection</c>, a test hook mapped only with <c>--failure-control</c> and no part of vLLM's API:
/// <c>GET</c> answers what is injected now, <c>PUT {"rate":100,"types":["unavailable"]}</c> replaces it from the next
/// request on (<c>types</c> left out: every kind, as with the flags) and answers the new settings. <c>/health</c> is left
/// alone, so a replica made to answer 503 stays alive to its health checks: sick, not dead, as an overloaded vLLM is.
/// </summary>
internal sealed class FailureControlEndpoint(FailureInjector failures)
{
    /// <summary>Where the hook is mapped.</summary>
    public const string Path = "/simulator/failure-injection";

    public Task GetAsync(HttpContext context) => WriteAsync(context.Response, failures.Settings, context.RequestAborted);

    public async Task PutAsync(HttpContext context)
    {
        FailureSettings? settings;
        ApiError? error;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            settings = Read(document.RootElement, out error);
        }
        catch (JsonException e)
        {
            (settings, error) = (null, ApiError.BadRequest("The request body is not valid JSON: " + e.Message));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The caller went away: nothing to change, nobody to answer.
            return;
        }

        if (settings is null)
        {
            await error!.WriteAsync(context.Response);
            return;
        }

        failures.Change(settings);
        await WriteAsync(context.Response, settings, context.RequestAborted);
    }

    private static FailureSettings? Read(JsonElement body, out ApiError? error)
    {
        error = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.BadRequest("The body must be a JSON object such as {\"rate\":100,\"types\":[\"unavailable\"]}.");
            return null;
        }

        if (!body.TryGetProperty("rate", out var rateValue) || rateValue.ValueKind != JsonValueKind.Number
            || !rateValue.TryGetDouble(out var rate) || rate is < 0 or > 100)
        {
            error = ApiError.BadRequest("'rate' must be a number of percent, 0..100.", "rate");
            return null;
        }

        var types = new List<FailureType>();
        if (body.TryGetProperty("types", out var typesValue))
        {
            if (typesValue.ValueKind != JsonValueKind.Array)
            {
                error = ApiError.BadRequest("'types' must be an array of failure types: " + string.Join(", ", FailureTypeNames.All) + ".", "types");
                return null;
            }

            foreach (var type in typesValue.EnumerateArray())
            {
                try
                {
                    types.Add(FailureTypeNames.Parse("types", type.ValueKind == JsonValueKind.String ? type.GetString()! : type.GetRawText()));
                }
                catch (FormatException e)
                {
                    error = ApiError.BadRequest(e.Message, "types");
                    return null;
                }
            }
        }

        return new FailureSettings(rate, types);
    }

    private static async Task WriteAsync(HttpResponse response, FailureSettings settings, CancellationToken cancellationToken)
    {
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteNumber("rate"u8, settings.Rate);
            json.WriteStartArray("types"u8);
            foreach (var type in settings.DrawnFrom)
            {
                json.WriteStringValue(FailureTypeNames.Name(type));
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(cancellationToken);
    }
}
