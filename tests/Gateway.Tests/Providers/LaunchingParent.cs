using Gateway.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Providers;

/// <summary>
/// A stand-in for the gateway in the orphan test (the host does not exist yet): starts one child through
/// <see cref="ChildProcessLauncher"/>, prints the child's process id, and waits to be killed.
/// </summary>
internal static class LaunchingParent
{
    public const string Mode = "launch-and-wait";

    public static async Task<int> RunAsync(string command, string[] arguments)
    {
        using var launcher = new ChildProcessLauncher(NullLogger<ChildProcessLauncher>.Instance);
        using var child = await launcher.StartAsync(command, arguments, CancellationToken.None);
        await Console.Out.WriteLineAsync(child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Console.Out.FlushAsync();
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary>Starts this assembly as a launching parent of <paramref name="command"/>.</summary>
    public static System.Diagnostics.Process Start(string command, params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(LaunchingParent).Assembly.Location);
        info.ArgumentList.Add(Mode);
        info.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("could not start the launching parent");
    }
}
