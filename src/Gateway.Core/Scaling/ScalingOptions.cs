namespace Gateway.Scaling;

/// <summary>
/// Makes a pool elastic: the scale controller adds replicas while demand exceeds what the service's pools carry
/// at its target utilisation, and gives them back, drained, when the peak is over. A pool without it keeps the
/// replicas its source gives it.
/// </summary>
public sealed class ScalingOptions
{
    /// <summary>Replicas the pool keeps however low demand is; 0 lets a cloud pool cost nothing between peaks.</summary>
    public int MinReplicas { get; set; }

    /// <summary>Replicas the pool never goes beyond, however high demand is: the budget's ceiling.</summary>
    public int MaxReplicas { get; set; } = 1;

    /// <summary>
    /// Seconds the wish for more replicas must hold before they are asked for, so a single spike does not start a
    /// node; then the pool is scaled out to the whole count at once.
    /// </summary>
    public double ScaleOutWindowSeconds { get; set; } = 2;

    /// <summary>
    /// Seconds the wish for fewer replicas must hold before one is given back, so load that comes and goes does
    /// not make the pool flap; then replicas leave one at a time, newest first.
    /// </summary>
    public double ScaleInStabilizationSeconds { get; set; } = 120;

    /// <summary>Seconds a leaving replica gets to finish its requests in flight (it takes no new ones) before it is stopped anyway.</summary>
    public double DrainTimeoutSeconds { get; set; } = 30;
}
