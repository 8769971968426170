using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Forwarding;

/// <summary>
/// Stands in for the request's lifetime and reset features while YARP copies a streamed answer, recording the abort
/// (or HTTP/2 reset) YARP makes when the replica's side of the body fails, instead of cutting the client off. The
/// forwarder then decides: end the stream with an error event, or carry out the abort as recorded.
/// </summary>
/// <remarks>
/// YARP ends a response whose body copy failed after it started with <c>IHttpResetFeature.Reset</c> where the
/// protocol has one (HTTP/2 and 3) and <c>HttpContext.Abort()</c> otherwise; <c>DefaultHttpContext.Abort()</c>
/// goes through the lifetime feature. Both are covered, and <see cref="RequestAborted"/> stays the real one, so a
/// client that leaves still cancels the copy.
/// </remarks>
internal sealed class DeferredAbort : IHttpRequestLifetimeFeature, IHttpResetFeature
{
    private readonly IHttpRequestLifetimeFeature _lifetime;
    private readonly IHttpResetFeature? _reset;
    private bool _aborted;
    private int? _resetCode;

    private DeferredAbort(IHttpRequestLifetimeFeature lifetime, IHttpResetFeature? reset)
    {
        _lifetime = lifetime;
        _reset = reset;
    }

    /// <summary>Whether YARP asked for the response to be cut off.</summary>
    public bool WasRequested => _aborted || _resetCode is not null;

    public CancellationToken RequestAborted
    {
        get => _lifetime.RequestAborted;
        set => _lifetime.RequestAborted = value;
    }

    /// <summary>Takes the request's features' place until <see cref="Restore"/>; returns the stand-in, or null when there is nothing to stand in for.</summary>
    public static DeferredAbort? Install(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<IHttpRequestLifetimeFeature>() is not { } lifetime || lifetime is DeferredAbort)
        {
            return null;
        }

        var reset = features.Get<IHttpResetFeature>();
        var deferred = new DeferredAbort(lifetime, reset);
        features.Set<IHttpRequestLifetimeFeature>(deferred);
        if (reset is not null)
        {
            features.Set<IHttpResetFeature>(deferred);
        }

        return deferred;
    }

    /// <summary>Puts the request's own features back; returns the stand-in if one was installed.</summary>
    public static DeferredAbort? Remove(HttpContext context)
    {
        var deferred = context.Features.Get<IHttpRequestLifetimeFeature>() as DeferredAbort;
        deferred?.Restore(context);
        return deferred;
    }

    /// <summary>Puts back the features this stand-in took the place of.</summary>
    public void Restore(HttpContext context)
    {
        var features = context.Features;
        if (!ReferenceEquals(features.Get<IHttpRequestLifetimeFeature>(), this))
        {
            return;
        }

        features.Set(_lifetime);
        if (_reset is not null)
        {
            features.Set(_reset);
        }
    }

    public void Abort() => _aborted = true;

    public void Reset(int errorCode) => _resetCode = errorCode;

    /// <summary>Does what YARP asked for, on the real features.</summary>
    public void Carry()
    {
        if (_resetCode is { } code && _reset is not null)
        {
            _reset.Reset(code);
        }
        else if (WasRequested)
        {
            _lifetime.Abort();
        }
    }
}
