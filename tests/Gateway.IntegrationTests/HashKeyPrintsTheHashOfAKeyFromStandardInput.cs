using System.Diagnostics;
using Gateway.Tenancy;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// <c>Gateway hash-key</c> as an operator runs it: the key piped on standard input, the hash to paste into
/// <c>ApiKeyHashes</c> the only thing on standard output, and the key nowhere in what the process writes.
/// </summary>
public sealed class HashKeyPrintsTheHashOfAKeyFromStandardInput
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KeyPiped_PrintsItsSha256AndNothingElse()
    {
        // sha256("sk-chat-example"), as docs/configuration.md and config/examples/tenants.json give it.
        const string Expected = "e68ebeefa8123d03c23cc3c08a48892cf947d46eba80c50713dbc1e6084b0638";
        Assert.Equal(Expected, TenantDirectory.Hash("sk-chat-example"));

        var (exitCode, output, error) = await RunAsync("sk-chat-example\n");

        Assert.Equal(0, exitCode);
        Assert.Equal(Expected + "\n", output);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task NothingPiped_ExitsWith2()
    {
        var (exitCode, output, error) = await RunAsync("");

        Assert.Equal(2, exitCode);
        Assert.Equal("", output);
        Assert.Contains("hash-key read no key", error, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string input)
    {
        // Started directly rather than through the tests' launcher, which gives its children no standard input; a child
        // left behind by a test host that died reads the end of its input and exits.
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo(DotnetProcess.Host, [Path.Combine(AppContext.BaseDirectory, "Gateway.dll"), "hash-key"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        process.Start();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(ExitTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"hash-key did not exit; it wrote:\n{await output}\n{await error}");
        }

        return (process.ExitCode, await output, await error);
    }
}
