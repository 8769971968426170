using Gateway.Admission;
using Gateway.Model;

namespace Gateway.Forwarding;

/// <summary>
/// One request on its way to a replica, one attempt at a time: what the request path decided (the service's queue,
/// the placed replica, the body held in memory) and what the <see cref="ReplicaAnswerTransformer"/> decided when the
/// replica answered (held back a 503, deferred an abort). The <see cref="ReplicaForwarder"/> puts it in the request's
/// features for the length of each attempt, as YARP's <c>IReverseProxyFeature</c> carries a route and cluster to
/// its transforms, and reads the decisions back from it.
/// </summary>
internal sealed class ForwardingAttempt
{
    private byte[]? _providerBody;

    /// <summary>
    /// The first attempt of a request admitted at <paramref name="admittedAt"/> (a <see cref="TimeProvider"/>
    /// timestamp) for <paramref name="tenant"/>, whose slot on <paramref name="replica"/> was reserved through
    /// <paramref name="queue"/>.
    /// </summary>
    public ForwardingAttempt(ServiceQueue queue, Replica replica, long admittedAt, Tenant tenant)
    {
        Queue = queue;
        Replica = replica;
        AdmittedAt = admittedAt;
        Tenant = tenant;
        Number = 1;
        Counted = 1;
    }

    /// <summary>Whose request it is: a retry waits in the queue in its tenant's class and runs only where the tenant may.</summary>
    public Tenant Tenant { get; }

    /// <summary>The queue of the request's service: its placement finds another replica for a retry.</summary>
    public ServiceQueue Queue { get; }

    /// <summary>The request's service.</summary>
    public InferenceService Service => Queue.Service;

    /// <summary>When the request asked its queue for a slot: its queue deadline counts from here on every placement.</summary>
    public long AdmittedAt { get; }

    /// <summary>The request body as the replica gets it, the same bytes on every attempt.</summary>
    public ArraySegment<byte> Body { get; set; }

    /// <summary>The replica of this attempt, whose slot is reserved.</summary>
    public Replica Replica { get; private set; }

    /// <summary>1 for the first attempt.</summary>
    public int Number { get; private set; }

    /// <summary>
    /// The attempts that count against <see cref="Configuration.ForwardingOptions.MaxAttempts"/>: all but those placed on
    /// the replica that had answered 503 after it recovered. The cap guards the other replicas against a request that
    /// breaks them; a replica that answered 503 refused the work rather than broke on it, so going back to it once it is
    /// healthy again (while the queue deadline lasts) risks nothing the cap is for.
    /// </summary>
    public int Counted { get; private set; }

    /// <summary>Set by the transformer: the replica answered 503 and nothing of that answer reached the client.</summary>
    public bool HeldBack { get; set; }

    /// <summary>
    /// Set when the replica's answer is over <see cref="Configuration.ForwardingOptions.MaxAnswerBytes"/>: by the transformer
    /// when its declared length says so (nothing of it reached the client), or by the <see cref="AnswerObserver"/> when
    /// its bytes passed the limit on the way (the copy was stopped there).
    /// </summary>
    public bool AnswerTooLarge { get; set; }

    /// <summary>Set by the transformer for a streamed answer: stands in for the client's abort while YARP copies it.</summary>
    public DeferredAbort? DeferredAbort { get; set; }

    /// <summary>The request's <c>model</c>, as the client named it.</summary>
    public string? Model { get; set; }

    /// <summary>The name the current replica's provider knows <see cref="Model"/> by, or null when it is not renamed.</summary>
    public string? ProviderModel =>
        Model is not null && Replica.Pool.Options.Provider?.ModelMap.TryGetValue(Model, out var mapped) == true && mapped != Model ? mapped : null;

    /// <summary>Set by the transformer: a provider's error answer, to be answered in OpenAI's shape instead of passed on.</summary>
    public OpenAIError? ProviderError { get; set; }

    /// <summary>Set by the transformer while a provider's answer is copied: puts the service's model name back in it.</summary>
    public ModelNameRewriter? Rewriter { get; set; }

    /// <summary>
    /// The body as a fresh stream YARP reads from the start; its buffer stays visible for the replica client. A provider
    /// that knows the model by another name gets the body with that name, made once.
    /// </summary>
    public MemoryStream OpenBody()
    {
        var body = Body;
        if (ProviderModel is { } mapped)
        {
            _providerBody ??= ModelNames.WithModel(body.AsSpan(), mapped);
            if (_providerBody is not null)
            {
                body = _providerBody;
            }
        }

        return new(body.Array!, body.Offset, body.Count, writable: false, publiclyVisible: true);
    }

    /// <summary>Moves on to the next attempt, on <paramref name="next"/>, whose slot the caller reserved.</summary>
    public void Retry(Replica next)
    {
        if (!HeldBack || !ReferenceEquals(next, Replica))
        {
            Counted++;
        }

        Replica = next;
        Number++;
        HeldBack = false;
        DeferredAbort = null;
        ProviderError = null;
    }
}
