using Gateway.Tests.Providers;

namespace Gateway.Tests;

/// <summary>
/// The test assembly run as a program (<c>dotnet Gateway.Tests.dll MODE …</c>), for tests that need a process of
/// their own to kill; the test runner loads the assembly as a library and never calls this.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args) => args switch
    {
        [LaunchingParent.Mode, var command, .. var arguments] => await LaunchingParent.RunAsync(command, arguments),
        _ => 2,
    };
}
