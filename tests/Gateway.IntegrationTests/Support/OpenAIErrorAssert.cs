using System.Net;
using System.Text.Json;

namespace Gateway.IntegrationTests.Support;

/// <summary>Checks an error the gateway answered itself: status, OpenAI's shape and its fields, exactly.</summary>
internal static class OpenAIErrorAssert
{
    /// <summary>
    /// Asserts the status and <c>{"error":{"message","type","param","code"}}</c>, and that the message ends with the
    /// request's id as the <c>x-request-id</c> header echoes it; returns the message without that ending.
    /// </summary>
    public static async Task<string> IsAsync(HttpResponseMessage response, HttpStatusCode status, string type, string code, string? param = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        using var document = JsonDocument.Parse(text);
        Assert.Equal(["error"], document.RootElement.EnumerateObject().Select(p => p.Name));
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        if (param is null)
        {
            Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        }
        else
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }

        var message = error.GetProperty("message").GetString()!;
        var suffix = $" (request id {Assert.Single(response.Headers.GetValues("x-request-id"))})";
        Assert.EndsWith(suffix, message, StringComparison.Ordinal);
        message = message[..^suffix.Length];
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message;
    }
}
