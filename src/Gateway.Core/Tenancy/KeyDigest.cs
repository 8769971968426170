using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tenancy;

/// <summary>
/// Secrets a client presents (a tenant's API key, the admin token) are compared as SHA-256 digests in fixed time: digests
/// of equal length, so neither a near miss nor the secret's length shows in the comparison's time. The presented bytes
/// live on the stack (or a rented buffer for an oversized one), are cleared after hashing, and are never kept.
/// </summary>
internal static class KeyDigest
{
    /// <summary>Bytes in a digest.</summary>
    public const int Size = SHA256.HashSizeInBytes;

    private const string BearerScheme = "Bearer ";
    private const int StackBytes = 512;

    /// <summary>
    /// Writes the digest of the one <c>Bearer</c> credential <paramref name="authorization"/> holds into
    /// <paramref name="digest"/>; false (nothing written) when it holds none, or more than one header.
    /// </summary>
    public static bool TryBearer(StringValues authorization, Span<byte> digest)
    {
        if (authorization.Count != 1 || authorization[0] is not { } value || !value.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        Of(value.AsSpan(BearerScheme.Length).Trim(), digest);
        return true;
    }

    /// <summary>Writes the digest of <paramref name="secret"/> (UTF-8) into <paramref name="digest"/>.</summary>
    public static void Of(ReadOnlySpan<char> secret, Span<byte> digest)
    {
        var most = Encoding.UTF8.GetMaxByteCount(secret.Length);
        byte[]? rented = null;
        var buffer = most <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(most));
        var bytes = buffer[..Encoding.UTF8.GetBytes(secret, buffer)];
        SHA256.HashData(bytes, digest);
        CryptographicOperations.ZeroMemory(bytes);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The digest of <paramref name="secret"/>, for one read at start (a configured token).</summary>
    public static byte[] Of(string secret)
    {
        var digest = new byte[Size];
        Of(secret.AsSpan(), digest);
        return digest;
    }

    /// <summary>Whether two digests are equal, in time that does not depend on where they differ.</summary>
    public static bool Equal(ReadOnlySpan<byte> presented, ReadOnlySpan<byte> expected) => CryptographicOperations.FixedTimeEquals(presented, expected);
}
