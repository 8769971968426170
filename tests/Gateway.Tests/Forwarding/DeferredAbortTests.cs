using Gateway.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Tests.Forwarding;

public sealed class DeferredAbortTests
{
    [Fact]
    public void Abort_WhileDeferred_IsRecordedAndCarriedOutOnlyOnRequest()
    {
        var (context, lifetime, _) = Context(http2: false);
        using var aborted = new CancellationTokenSource();
        lifetime.RequestAborted = aborted.Token;

        DeferredAbort.Install(context);
        Assert.Equal(aborted.Token, context.RequestAborted);
        context.Abort();
        Assert.Equal(0, lifetime.Aborts);

        var deferred = DeferredAbort.Remove(context);
        Assert.NotNull(deferred);
        Assert.True(deferred.WasRequested);
        Assert.Same(lifetime, context.Features.Get<IHttpRequestLifetimeFeature>());
        Assert.Null(context.Features.Get<IHttpResetFeature>());

        deferred.Carry();
        Assert.Equal(1, lifetime.Aborts);
    }

    [Fact]
    public void Reset_WhileDeferredOnHttp2_IsCarriedOutAsTheSameReset()
    {
        var (context, lifetime, reset) = Context(http2: true);

        DeferredAbort.Install(context);
        context.Features.Get<IHttpResetFeature>()!.Reset(8);
        Assert.Empty(reset!.Codes);

        var deferred = DeferredAbort.Remove(context)!;
        Assert.Same(reset, context.Features.Get<IHttpResetFeature>());
        deferred.Carry();

        Assert.Equal([8], reset.Codes);
        Assert.Equal(0, lifetime.Aborts);
    }

    [Fact]
    public void NothingRequested_CarryDoesNothing()
    {
        var (context, lifetime, _) = Context(http2: false);
        DeferredAbort.Install(context);

        var deferred = DeferredAbort.Remove(context)!;
        deferred.Carry();

        Assert.False(deferred.WasRequested);
        Assert.Equal(0, lifetime.Aborts);
    }

    [Fact]
    public void Remove_WhenNothingWasInstalled_ReturnsNullAndLeavesTheFeatures()
    {
        var (context, lifetime, _) = Context(http2: false);

        Assert.Null(DeferredAbort.Remove(context));
        Assert.Same(lifetime, context.Features.Get<IHttpRequestLifetimeFeature>());
    }

    private static (HttpContext Context, RecordingLifetime Lifetime, RecordingReset? Reset) Context(bool http2)
    {
        var context = new DefaultHttpContext();
        var lifetime = new RecordingLifetime();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        RecordingReset? reset = null;
        if (http2)
        {
            reset = new RecordingReset();
            context.Features.Set<IHttpResetFeature>(reset);
        }

        return (context, lifetime, reset);
    }

    private sealed class RecordingLifetime : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get; set; }

        public int Aborts { get; private set; }

        public void Abort() => Aborts++;
    }

    private sealed class RecordingReset : IHttpResetFeature
    {
        public List<int> Codes { get; } = [];

        public void Reset(int errorCode) => Codes.Add(errorCode);
    }
}
