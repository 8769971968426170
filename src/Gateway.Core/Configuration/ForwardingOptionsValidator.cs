namespace Gateway.Configuration;

/// <summary>Checks <see cref="ForwardingOptions"/> (timeouts and attempts of the hop to a replica); each message starts with the key path.</summary>
internal static class ForwardingOptionsValidator
{
    private const long MinAnswerBytes = 64 * 1024;

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>Gateway:Forwarding</c>).</summary>
    public static void Check(List<string> errors, ForwardingOptions forwarding, string path)
    {
        OptionsChecks.Positive(errors, $"{path}:ConnectTimeoutSeconds", forwarding.ConnectTimeoutSeconds);
        OptionsChecks.Positive(errors, $"{path}:FirstByteTimeoutSeconds", forwarding.FirstByteTimeoutSeconds);
        if (forwarding.MaxAttempts is < 1 or > 5)
        {
            errors.Add($"{path}:MaxAttempts: must be between 1 and 5, got {forwarding.MaxAttempts}");
        }

        // Below the stream look-ahead a single held event could pass the limit before any of it is read.
        if (forwarding.MaxAnswerBytes < MinAnswerBytes)
        {
            errors.Add($"{path}:MaxAnswerBytes: must be at least {MinAnswerBytes} (64 KiB), got {forwarding.MaxAnswerBytes}");
        }
    }
}
