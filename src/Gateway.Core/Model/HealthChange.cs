namespace Gateway.Model;

/// <summary>What one health signal did to a replica.</summary>
internal enum HealthChange
{
    /// <summary>Nothing an operator needs to hear about.</summary>
    None,

    /// <summary>The replica was healthy and now takes no new requests.</summary>
    TakenOut,

    /// <summary>The replica was unhealthy and takes requests again.</summary>
    Recovered,
}
