namespace Gateway.Planning;

/// <summary>
/// What the oracle pays for its <see cref="Level"/>-th cloud replica: the one running whenever at least that many are needed.
/// <see cref="ReplicaSeconds"/> = <see cref="BusySeconds"/> + <see cref="BootSeconds"/> + <see cref="BridgedSeconds"/>.
/// </summary>
/// <param name="Level">1 for the first cloud replica, 2 for the second...</param>
/// <param name="BusySeconds">Seconds during which at least <paramref name="Level"/> cloud replicas are needed.</param>
/// <param name="Boots">How many times the replica is booted: once, plus once after each idle gap of at least the boot time.</param>
/// <param name="BootSeconds">Seconds paid for booting: <paramref name="Boots"/> × the boot time.</param>
/// <param name="BridgedSeconds">Idle seconds paid for because each such gap was shorter than a boot, so keeping the replica cost less.</param>
internal sealed record OracleLevel(int Level, double BusySeconds, int Boots, double BootSeconds, double BridgedSeconds)
{
    /// <summary>Seconds the replica is paid for: busy, booting or kept over a short gap.</summary>
    public double ReplicaSeconds => BusySeconds + BootSeconds + BridgedSeconds;
}
