using Microsoft.Extensions.Configuration;

namespace Gateway.Configuration;

/// <summary>Binds and checks the <c>Gateway</c> section; any problem becomes one message per bad key.</summary>
public static class GatewayConfiguration
{
    /// <summary>Reads the options, or throws <see cref="GatewayConfigurationException"/> naming every bad key.</summary>
    public static GatewayOptions Load(IConfiguration configuration)
    {
        var section = configuration.GetSection(GatewayOptions.SectionName);
        GatewayOptions options;
        try
        {
            // Unknown keys are errors too: a misspelt setting silently ignored is worse than a refusal to start.
            options = section.Get<GatewayOptions>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new GatewayOptions();
        }
        catch (InvalidOperationException e)
        {
            // The binder wraps the error that names the key or property ("Failed to convert configuration value
            // 'four' at 'Gateway:Services:0:Pools:0:CapacityPerReplica'") in generic "binding has failed" layers.
            var cause = e;
            while (cause.InnerException is InvalidOperationException inner)
            {
                cause = inner;
            }

            throw new GatewayConfigurationException([cause.Message]);
        }

        var errors = GatewayOptionsValidator.Check(options);
        return errors.Count == 0 ? options : throw new GatewayConfigurationException(errors);
    }
}

/// <summary>The configuration cannot be used; <see cref="Errors"/> name each bad key and what is wrong.</summary>
public sealed class GatewayConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid gateway configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors))
{
    /// <summary>One message per problem, each starting with its key path.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}
