using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// Debian's headless Chromium (<c>/usr/bin/chromium</c>) driven over the DevTools protocol on a loopback
/// port: a few commands (navigate, evaluate, screenshot) on one WebSocket, no browser-automation package.
/// <c>--dump-dom</c> cannot serve a live page: its virtual time runs the page's 1.5 s refreshes back to back
/// in a few milliseconds of real time, so no traffic happens between two scrapes. Script errors, console
/// errors and blocked loads (the page's Content-Security-Policy) are collected in <see cref="Errors"/>.
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly DirectoryInfo _profile;
    private readonly StringBuilder _output;
    private readonly ClientWebSocket _socket = new();
    private readonly List<string> _errors = [];
    private int _nextId;

    private HeadlessChromium(Process process, DirectoryInfo profile, StringBuilder output)
    {
        _process = process;
        _profile = profile;
        _output = output;
    }

    /// <summary>Uncaught exceptions, console errors and log entries of level error, in order.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>
    /// Starts Chromium with a fresh profile and a <paramref name="width"/> × <paramref name="height"/> viewport,
    /// attaches to its tab, then opens <paramref name="url"/>. Installs Debian's chromium package first where there is
    /// no Chromium (see <see cref="DebianPackage"/>).
    /// </summary>
    public static async Task<HeadlessChromium> OpenAsync(Uri url, int width, int height)
    {
        // With its recommends, as Debian users install it (fonts among them). Browser tests that run side by side wait on
        // the same install.
        var executable = await DebianPackage.EnsureAsync("chromium", "chromium", withRecommends: true);

        var profile = Directory.CreateTempSubdirectory("gateway-chromium-");
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Through the tests' launcher, as the gateway and the simulators: a browser must not outlive a killed test host either.
        var process = await DotnetProcess.Launcher.StartAsync(
            executable,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}", $"--window-size={width},{height}",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
            ],
            CancellationToken.None);
        DataReceivedEventHandler read = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (DevToolsLine().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.OutputDataReceived += read;
        process.ErrorDataReceived += read;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();

        var browser = new HeadlessChromium(process, profile, output);
        try
        {
            var started = await Task.WhenAny(listening.Task, exited).WaitAsync(StartTimeout);
            if (started != listening.Task)
            {
                throw new InvalidOperationException($"Chromium exited with code {process.ExitCode} before listening:\n{browser.Output}");
            }

            await browser.AttachAsync(await listening.Task, width, height);
            await browser.SendAsync("Page.navigate", new { url = url.ToString() });
            await browser.WaitForEventAsync("Page.loadEventFired");
            return browser;
        }
        catch (Exception e) when (e is TimeoutException or WebSocketException or HttpRequestException)
        {
            await browser.DisposeAsync();
            throw new InvalidOperationException("Chromium did not start its DevTools endpoint:\n" + browser.Output, e);
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Everything Chromium printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value as a string (the expression should make one).</summary>
    public async Task<string> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException("the page threw: " + exception);
        }

        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()! : value.ToString();
    }

    /// <summary>A PNG of the viewport, written to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" });
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, result.GetProperty("data").GetBytesFromBase64());
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A crash reporter may still hold a file there; a temp folder left behind harms nothing.
        }
    }

    private async Task AttachAsync(Uri browserEndpoint, int width, int height)
    {
        // The browser endpoint's port also serves the list of tabs; the one tab is about:blank.
        using var http = new HttpClient { Timeout = CommandTimeout };
        using var targets = JsonDocument.Parse(await http.GetStringAsync(new Uri(browserEndpoint, "/json/list")));
        var page = targets.RootElement.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page");
        await _socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);

        await SendAsync("Runtime.enable", null);
        await SendAsync("Log.enable", null);
        await SendAsync("Page.enable", null);
        await SendAsync("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile = false });
    }

    private async Task<JsonElement> SendAsync(string method, object? parameters)
    {
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var id = ++_nextId;
        var message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        while (true)
        {
            using var reply = await ReceiveAsync(timeout.Token);
            var root = reply.RootElement;
            if (!root.TryGetProperty("id", out var replyId))
            {
                Collect(root);
                continue;
            }

            if (replyId.GetInt32() != id)
            {
                continue;
            }

            if (root.TryGetProperty("error", out var error))
            {
                throw new InvalidOperationException($"{method} failed: {error}");
            }

            return root.GetProperty("result").Clone();
        }
    }

    private async Task WaitForEventAsync(string method)
    {
        using var timeout = new CancellationTokenSource(CommandTimeout);
        while (true)
        {
            using var message = await ReceiveAsync(timeout.Token);
            var root = message.RootElement;
            if (root.TryGetProperty("method", out var name))
            {
                Collect(root);
                if (name.GetString() == method)
                {
                    return;
                }
            }
        }
    }

    private async Task<JsonDocument> ReceiveAsync(CancellationToken cancellationToken)
    {
        // Screenshots arrive as one message of several megabytes, in many frames.
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var frame = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (frame.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException("Chromium closed the DevTools connection:\n" + Output);
            }

            message.Write(buffer, 0, frame.Count);
            if (frame.EndOfMessage)
            {
                message.Position = 0;
                return JsonDocument.Parse(message);
            }
        }
    }

    private void Collect(JsonElement notification)
    {
        var method = notification.GetProperty("method").GetString();
        var parameters = notification.TryGetProperty("params", out var p) ? p : default;
        string? error = method switch
        {
            "Runtime.exceptionThrown" => "exception: " + parameters.GetProperty("exceptionDetails"),
            "Runtime.consoleAPICalled" when parameters.GetProperty("type").GetString() is "error" or "assert" =>
                "console: " + parameters.GetProperty("args"),
            "Log.entryAdded" when parameters.GetProperty("entry").GetProperty("level").GetString() == "error" =>
                "log: " + parameters.GetProperty("entry").GetProperty("text").GetString() + " " +
                (parameters.GetProperty("entry").TryGetProperty("url", out var url) ? url.GetString() : ""),
            _ => null,
        };
        if (error is not null)
        {
            lock (_errors)
            {
                _errors.Add(error);
            }
        }
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();
}
