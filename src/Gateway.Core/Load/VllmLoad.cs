namespace Gateway.Load;

/// <summary>
/// What one vLLM server says about its load in its <c>/metrics</c>: sequences running, requests waiting for one,
/// and the share of its KV cache in use.
/// </summary>
/// <param name="Running"><c>vllm:num_requests_running</c>, summed over the served models.</param>
/// <param name="Waiting"><c>vllm:num_requests_waiting</c>, summed over the served models.</param>
/// <param name="KvCacheUsage"><c>vllm:kv_cache_usage_perc</c> (or the older <c>vllm:gpu_cache_usage_perc</c>), the highest over the served models; 0 when neither is exported.</param>
internal readonly record struct VllmLoad(int Running, int Waiting, double KvCacheUsage)
{
    /// <summary>
    /// Reads the load from an exposition. False when it lacks <c>vllm:num_requests_running</c> or
    /// <c>vllm:num_requests_waiting</c> (a server that is not vLLM, or a broken answer): without them nothing
    /// can be said about the replica.
    /// </summary>
    /// <remarks>
    /// A server serving several models (one <c>model_name</c> label each) runs them on the same GPUs, so counts
    /// add up, while the KV cache is one pool per engine, so the fullest one is what limits. A NaN or infinite
    /// sample says nothing and is left out.
    /// </remarks>
    public static bool TryRead(ReadOnlySpan<byte> exposition, out VllmLoad load)
    {
        double running = 0, waiting = 0, kvCache = -1, gpuCache = -1;
        bool hasRunning = false, hasWaiting = false;
        var reader = new PrometheusTextReader(exposition);
        while (reader.TryRead(out var sample))
        {
            var value = sample.Value;
            if (!double.IsFinite(value))
            {
                continue;
            }

            var name = sample.Name;
            if (name.SequenceEqual("vllm:num_requests_running"u8))
            {
                running += value;
                hasRunning = true;
            }
            else if (name.SequenceEqual("vllm:num_requests_waiting"u8))
            {
                waiting += value;
                hasWaiting = true;
            }
            else if (name.SequenceEqual("vllm:kv_cache_usage_perc"u8))
            {
                kvCache = Math.Max(kvCache, value);
            }
            else if (name.SequenceEqual("vllm:gpu_cache_usage_perc"u8))
            {
                gpuCache = Math.Max(gpuCache, value);
            }
        }

        if (!hasRunning || !hasWaiting)
        {
            load = default;
            return false;
        }

        var usage = kvCache >= 0 ? kvCache : gpuCache >= 0 ? gpuCache : 0;
        load = new VllmLoad(Count(running), Count(waiting), Math.Clamp(usage, 0, 1));
        return true;
    }

    private static int Count(double value) => (int)Math.Clamp(Math.Round(value), 0, int.MaxValue);
}
