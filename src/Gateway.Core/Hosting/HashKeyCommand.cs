using System.Text;
using Gateway.Tenancy;

namespace Gateway.Hosting;

/// <summary>
/// <c>hash-key</c>: reads one API key, the first line of standard input, and prints the lower-case hex SHA-256 that
/// <c>Gateway:Tenants:N:ApiKeyHashes</c> holds, so only the hash goes into configuration. The key is never an argument
/// (it would stay in the shell's history and show in the process list) and is never written back: from a terminal it
/// is read without echo, and nothing but the hash goes to standard output.
/// </summary>
internal static class HashKeyCommand
{
    /// <summary>The command's name, the first argument.</summary>
    public const string Name = "hash-key";

    /// <summary>Runs the command on the process's console; <paramref name="args"/> are the arguments after its name.</summary>
    public static int Run(IReadOnlyList<string> args) =>
        Run(args, Console.IsInputRedirected ? Console.In.ReadLine : () => ReadWithoutEcho(Console.Error), Console.Out, Console.Error);

    /// <summary>
    /// Reads the key with <paramref name="readKey"/> and writes its hash to <paramref name="output"/>; 0, or
    /// <see cref="GatewayProgram.UsageError"/> when there are arguments or no key.
    /// </summary>
    public static int Run(IReadOnlyList<string> args, Func<string?> readKey, TextWriter output, TextWriter error)
    {
        if (args.Count > 0)
        {
            // The argument is not echoed either: it may well be the key.
            error.WriteLine($"error: {Name} takes no arguments; give the key on standard input, e.g. `{Name} < key-file`");
            return GatewayProgram.UsageError;
        }

        var key = readKey();
        if (string.IsNullOrWhiteSpace(key))
        {
            error.WriteLine($"error: {Name} read no key; give it as the first line of standard input");
            return GatewayProgram.UsageError;
        }

        output.WriteLine(TenantDirectory.Hash(key));
        return 0;
    }

    /// <summary>Reads a line from the terminal without showing it, after a prompt on <paramref name="prompt"/>.</summary>
    private static string ReadWithoutEcho(TextWriter prompt)
    {
        prompt.Write("API key (not shown): ");
        var key = new StringBuilder();
        while (true)
        {
            var typed = Console.ReadKey(intercept: true);
            if (typed.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (typed.Key == ConsoleKey.Backspace)
            {
                key.Length = Math.Max(0, key.Length - 1);
            }
            else if (!char.IsControl(typed.KeyChar))
            {
                key.Append(typed.KeyChar);
            }
        }

        prompt.WriteLine();
        return key.ToString();
    }
}
