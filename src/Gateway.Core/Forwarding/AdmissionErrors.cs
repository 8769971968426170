using Gateway.Admission;

namespace Gateway.Forwarding;

/// <summary>
/// What a client is told when its service's queue does not give it a replica: on arrival (the endpoint), or when an
/// attempt that failed before its first byte is placed again (the forwarder). One place, so both say the same.
/// </summary>
internal static class AdmissionErrors
{
    /// <summary>The answer to <paramref name="failure"/>, or null when there is nobody to answer (the client left).</summary>
    public static OpenAIError? For(ServiceQueue queue, AdmissionFailure failure)
    {
        var service = queue.Service;
        var retryAfter = queue.RetryAfterSeconds;
        return failure switch
        {
            AdmissionFailure.QueueFull => new OpenAIError(429, "rate_limit_error", "queue_full",
                $"Service {service.Name} is at capacity and its queue is full; retry later.", RetryAfterSeconds: retryAfter),
            AdmissionFailure.Shed => new OpenAIError(503, "server_error", "shed",
                $"Service {service.Name}'s queue is full and a request of a higher class took this one's place; retry later.", RetryAfterSeconds: retryAfter),
            AdmissionFailure.QueueTimeout => new OpenAIError(503, "server_error", "queue_timeout",
                $"Service {service.Name} had no free replica within the queue's wait limit; retry later.", RetryAfterSeconds: retryAfter),
            AdmissionFailure.Draining => ShuttingDown(retryAfter),

            // The client is gone: nothing to answer.
            _ => null,
        };
    }

    /// <summary>The answer to new work while the gateway drains: another gateway replica can take it.</summary>
    public static OpenAIError ShuttingDown(int retryAfterSeconds) => new(503, "server_error", "shutting_down",
        "The gateway is shutting down; retry, another gateway replica will take the request.", RetryAfterSeconds: retryAfterSeconds);
}
