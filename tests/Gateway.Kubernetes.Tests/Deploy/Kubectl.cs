using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Gateway.Testing;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>
/// <c>kubectl kustomize</c>, offline (it needs no cluster): the kubectl on the PATH, or Debian's
/// <c>kubernetes-client</c> installed by the test run itself when there is none, so that <c>dotnet test Gateway.sln</c>
/// passes on a machine that has only the .NET SDK. Debian's is kubectl 1.20, whose kustomize is v2.0: the manifests are
/// written for it, and the same files render with current kubectl (kustomize v5).
/// </summary>
internal static class Kubectl
{
    private static readonly TimeSpan RenderTimeout = TimeSpan.FromSeconds(60);

    // Blocks on the install, once per test process: rendering is synchronous for the tests that read the overlays.
    private static readonly Lazy<string> Executable = new(
        () => DebianPackage.EnsureAsync("kubernetes-client", "kubectl").GetAwaiter().GetResult(), LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly ConcurrentDictionary<string, Lazy<string>> Rendered = new(StringComparer.Ordinal);

    /// <summary>The multi-document YAML <c>kubectl kustomize <paramref name="folder"/></c> prints, rendered once per test process.</summary>
    public static string Kustomize(string folder) =>
        Rendered.GetOrAdd(Path.GetFullPath(folder), f => new Lazy<string>(() => Render(f), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static string Render(string folder)
    {
        var (code, output, errors) = Run([Executable.Value, "kustomize", folder], RenderTimeout);
        return code == 0 ? output : throw new InvalidOperationException($"`kubectl kustomize {folder}` exited with code {code}:\n{errors}");
    }

    private static (int Code, string Output, string Errors) Run(string[] command, TimeSpan timeout)
    {
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo(command[0], command[1..])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Append(e.Data).Append('\n');
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.Append(e.Data).Append('\n');
                }
            }
        };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"`{command[0]}` could not be started ({e.Message})", e);
        }

        // Nothing will answer: a command that asks a question must fail, not wait.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"`{string.Join(' ', command)}` did not finish within {timeout}:\n{errors}");
        }

        // The parameterless wait also waits for the last redirected line.
        process.WaitForExit();
        lock (output)
        {
            lock (errors)
            {
                return (process.ExitCode, output.ToString(), errors.ToString());
            }
        }
    }
}
