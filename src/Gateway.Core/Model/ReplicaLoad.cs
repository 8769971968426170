namespace Gateway.Model;

/// <summary>
/// A replica's load by its own account (vLLM's <c>/metrics</c>), as of one scrape.
/// </summary>
/// <param name="Running">vLLM's <c>vllm:num_requests_running</c>.</param>
/// <param name="Waiting">vLLM's <c>vllm:num_requests_waiting</c>.</param>
/// <param name="KvCacheUsage">vLLM's <c>vllm:kv_cache_usage_perc</c> (or the older <c>vllm:gpu_cache_usage_perc</c>), 0..1.</param>
/// <param name="OthersInFlight">Running plus waiting beyond this gateway's own in-flight count at the scrape: other clients' requests.</param>
/// <param name="Saturated">The replica should take no new request (it queues, or its KV cache is nearly full).</param>
/// <param name="ScrapedAt">When the figures were read, as a <see cref="TimeProvider"/> timestamp.</param>
public sealed record ReplicaLoad(int Running, int Waiting, double KvCacheUsage, int OthersInFlight, bool Saturated, long ScrapedAt);
