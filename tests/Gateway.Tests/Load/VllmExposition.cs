namespace Gateway.Tests.Load;

/// <summary>
/// A vLLM <c>/metrics</c> answer as a recent vLLM writes it (two served models: a base model and a LoRA adapter
/// whose name holds quotes), with the process collector's families, a histogram and a summary, and, near the end,
/// the kinds of broken lines a buggy exporter or a cut-off answer leaves behind.
/// </summary>
internal static class VllmExposition
{
    /// <summary>Samples in <see cref="Text"/> that are well formed.</summary>
    public const int SampleCount = 28;

    /// <summary>Lines in <see cref="Text"/> that are neither samples, comments nor blank.</summary>
    public const int MalformedLineCount = 10;

    public const string Text =
        """
        # HELP python_gc_objects_collected_total Objects collected during gc
        # TYPE python_gc_objects_collected_total counter
        python_gc_objects_collected_total{generation="0"} 14232.0
        python_gc_objects_collected_total{generation="1"} 1267.0
        python_gc_objects_collected_total{generation="2"} 94.0
        # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
        # TYPE process_start_time_seconds gauge
        process_start_time_seconds 1.71800012345e+09
        # HELP vllm:num_requests_running Number of requests in model execution batches.
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{engine="0",model_name="qwen2.5-7b"} 3.0
        vllm:num_requests_running{engine="0",model_name="qwen-lora \"fr\""} 2.0 1718000123456
        # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
        # TYPE vllm:num_requests_waiting gauge
        vllm:num_requests_waiting{engine="0",model_name="qwen2.5-7b"} 1.0
        vllm:num_requests_waiting{engine="0",model_name="qwen-lora \"fr\""} 0.0
        vllm:num_requests_waiting{engine="1",model_name="draft"} -Inf
        # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
        # TYPE vllm:kv_cache_usage_perc gauge
        vllm:kv_cache_usage_perc{engine="0",model_name="qwen2.5-7b"} 0.4375
        vllm:kv_cache_usage_perc{engine="0",model_name="qwen-lora \"fr\""} 0.8125
        vllm:kv_cache_usage_perc{engine="1",model_name="draft"} NaN
        # HELP vllm:gpu_cache_usage_perc GPU KV-cache usage (deprecated name).
        # TYPE vllm:gpu_cache_usage_perc gauge
        vllm:gpu_cache_usage_perc{engine="0",model_name="qwen2.5-7b"} 0.99
        # HELP vllm:num_preemptions_total Cumulative number of preemption from the engine.
        # TYPE vllm:num_preemptions_total counter
        vllm:num_preemptions_total{engine="0",model_name="qwen2.5-7b"} NaN
        # HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
        # TYPE vllm:time_to_first_token_seconds histogram
        vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="qwen2.5-7b"} 0.0
        vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="qwen2.5-7b"} 12.0
        vllm:time_to_first_token_seconds_bucket{engine="0",le="1.0",model_name="qwen2.5-7b"} 40.0
        vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="qwen2.5-7b"} 42.0
        vllm:time_to_first_token_seconds_sum{engine="0",model_name="qwen2.5-7b"} 9.625
        vllm:time_to_first_token_seconds_count{engine="0",model_name="qwen2.5-7b"} 42.0
        # HELP http_request_duration_seconds Duration of HTTP requests in seconds.
        # TYPE http_request_duration_seconds summary
        http_request_duration_seconds{handler="/metrics",quantile="0.5"} 0.0021
        http_request_duration_seconds{handler="/metrics",quantile="0.99"} +Inf
        http_request_duration_seconds_sum{handler="/metrics"} 0.125
        http_request_duration_seconds_count{handler="/metrics"} 7
        # HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
        # TYPE vllm:cache_config_info gauge
        vllm:cache_config_info{block_size="16",cache_dtype="auto",path="C:\\models\\qwen",note="line one\nline two"} 1.0
        vllm:lora_requests_info{max_lora="1",running_lora_adapters="",waiting_lora_adapters="",} 1.7e9 -5

        # Broken lines from here on; each is skipped and the valid lines between them still count.
        vllm:num_requests_running{model_name="missing value"}
        vllm:num_requests_running{model_name="unclosed" 7
        vllm:num_requests_running{model_name="bad \escape"} 7
        vllm:num_requests_waiting{model_name="qwen2.5-7b"} 5 not-a-timestamp
        vllm:num_requests_waiting{model_name="qwen2.5-7b"} 5 1 2
        vllm:num_requests_running{"qwen2.5-7b"} 7
        {model_name="qwen2.5-7b"} 7
        vllm:num_requests_running=7
        this is not a metric at all
        vllm:num_requests_waiting 0x1f
        process_cpu_seconds_total 	 12.34
        process_open_fds 42
        """;
}
