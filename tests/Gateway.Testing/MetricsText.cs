using System.Globalization;

namespace Gateway.Testing;

/// <summary>Reads samples from a Prometheus text exposition, keyed by <c>name{labels}</c> exactly as written.</summary>
public static class MetricsText
{
    public static IReadOnlyDictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return samples;
    }

    public static async Task<IReadOnlyDictionary<string, double>> ScrapeAsync(HttpClient client) =>
        Parse(await client.GetStringAsync("metrics"));

    /// <summary>Running and waiting sequences of the qwen model, the pair the load tests watch.</summary>
    public static async Task<(double Running, double Waiting)> QueueAsync(HttpClient client)
    {
        var samples = await ScrapeAsync(client);
        return (samples["vllm:num_requests_running{model_name=\"qwen\"}"], samples["vllm:num_requests_waiting{model_name=\"qwen\"}"]);
    }
}
