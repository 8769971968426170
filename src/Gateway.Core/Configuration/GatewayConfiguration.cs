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
            throw new GatewayConfigurationException([BinderMessage(e)]);
        }

        var errors = GatewayOptionsValidator.Check(options);
        return errors.Count == 0 ? options : throw new GatewayConfigurationException(errors);
    }

    /// <summary>
    /// The binder wraps what went wrong (the key path of a value it could not convert, or the misspelt key)
    /// in generic "binding has failed" exceptions; the innermost binder message is the one an operator needs.
    /// </summary>
    private static string BinderMessage(InvalidOperationException exception)
    {
        var message = exception.Message;
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is InvalidOperationException)
            {
                message = inner.Message;
            }
        }

        return message;
    }
}

/// <summary>The configuration cannot be used; <see cref="Errors"/> name each bad key and what is wrong.</summary>
public sealed class GatewayConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid gateway configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors))
{
    /// <summary>One message per problem, each starting with its key path.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}
