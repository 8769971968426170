namespace Gateway.Forwarding;

/// <summary>
/// Thrown by the <see cref="AnswerObserver"/> into YARP's copy of an answer that passed
/// <see cref="Configuration.ForwardingOptions.MaxAnswerBytes"/>, which is how a copy is stopped from its destination's
/// side; the forwarder then ends the answer (<see cref="ForwardingAttempt.AnswerTooLarge"/>).
/// </summary>
public sealed class AnswerTooLargeException : Exception
{
    public AnswerTooLargeException()
        : base("The replica's answer exceeded the gateway's answer size limit.")
    {
    }

    public AnswerTooLargeException(long maxAnswerBytes)
        : base($"The replica's answer exceeded the gateway's limit of {maxAnswerBytes} bytes.")
    {
    }

    public AnswerTooLargeException(string message)
        : base(message)
    {
    }

    public AnswerTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
