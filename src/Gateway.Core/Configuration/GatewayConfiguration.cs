using System.Collections;
using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Gateway.Configuration;

/// <summary>Binds and checks the <c>Gateway</c> section; any problem becomes one message per bad key.</summary>
public static class GatewayConfiguration
{
    /// <summary>Reads and checks the options, or throws <see cref="GatewayConfigurationException"/> naming every bad key.</summary>
    public static GatewayOptions Load(IConfiguration configuration) => Validate(Bind(configuration));

    /// <summary>
    /// Checks options however they were made (bound here, or built in code by a host or a test): the one place the
    /// validators run. Returns <paramref name="options"/>, or throws <see cref="GatewayConfigurationException"/>.
    /// </summary>
    public static GatewayOptions Validate(GatewayOptions options)
    {
        var errors = GatewayOptionsValidator.Check(options);
        return errors.Count == 0 ? options : throw new GatewayConfigurationException(errors);
    }

    /// <summary>
    /// Binds the <c>Gateway</c> section, refusing unknown keys and values of the wrong type (the binder would silently
    /// drop them); whether the values make sense is <see cref="Validate"/>'s job.
    /// </summary>
    public static GatewayOptions Bind(IConfiguration configuration)
    {
        var section = configuration.GetSection(GatewayOptions.SectionName);

        // A misspelt setting silently ignored is worse than a refusal to start, so unknown keys are errors; and
        // the binder silently drops a list item with a bad value (a whole pool!), so values are checked first.
        var errors = new List<string>();
        CheckKeys(section, typeof(GatewayOptions), errors);
        if (errors.Count > 0)
        {
            throw new GatewayConfigurationException(errors);
        }

        try
        {
            return section.Get<GatewayOptions>() ?? new GatewayOptions();
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key ("Failed to convert configuration value at 'Gateway:...' to type ...").
            throw new GatewayConfigurationException([e.InnerException is null ? e.Message : $"{e.Message} ({e.InnerException.Message})"]);
        }
    }

    private static void CheckKeys(IConfigurationSection section, Type type, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                var known = string.Join(", ", Array.ConvertAll(type.GetProperties(BindingFlags.Public | BindingFlags.Instance), p => p.Name));
                errors.Add($"{child.Path}: unknown setting (known here: {known})");
                continue;
            }

            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                // A map such as Classes: its keys are values (an enum's names), its values settings or values.
                var (keyType, valueType) = (propertyType.GetGenericArguments()[0], propertyType.GetGenericArguments()[1]);
                foreach (var item in child.GetChildren())
                {
                    CheckKey(item, keyType, errors);
                    if (IsSettingsClass(valueType))
                    {
                        CheckKeys(item, valueType, errors);
                    }
                    else
                    {
                        CheckValue(item, valueType, errors);
                    }
                }
            }
            else if (propertyType.IsGenericType && typeof(IList).IsAssignableFrom(propertyType))
            {
                var element = propertyType.GetGenericArguments()[0];
                if (IsSettingsClass(element))
                {
                    foreach (var item in child.GetChildren())
                    {
                        CheckKeys(item, element, errors);
                    }
                }
                else
                {
                    foreach (var item in child.GetChildren())
                    {
                        CheckValue(item, element, errors);
                    }
                }
            }
            else if (IsSettingsClass(propertyType))
            {
                CheckKeys(child, propertyType, errors);
            }
            else
            {
                CheckValue(child, propertyType, errors);
            }
        }
    }

    /// <summary>A map's key, which must be a valid <paramref name="type"/> as a value would (an enum's name, not its number).</summary>
    private static void CheckKey(IConfigurationSection item, Type type, List<string> errors)
    {
        if (type.IsEnum && (!Enum.TryParse(type, item.Key, ignoreCase: true, out var parsed) || !Enum.IsDefined(type, parsed!) || int.TryParse(item.Key, out _)))
        {
            errors.Add($"{item.Path}: '{item.Key}' is not one of {string.Join(", ", Enum.GetNames(type))}");
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, List<string> errors)
    {
        var value = section.Value;
        if (value is null || type == typeof(string))
        {
            return;
        }

        if (type.IsEnum)
        {
            if (!Enum.TryParse(type, value, ignoreCase: true, out var parsed) || !Enum.IsDefined(type, parsed!) || int.TryParse(value, out _))
            {
                errors.Add($"{section.Path}: '{value}' is not one of {string.Join(", ", Enum.GetNames(type))}");
            }

            return;
        }

        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException || e.InnerException is FormatException or OverflowException)
        {
            errors.Add($"{section.Path}: '{value}' is not a valid {FriendlyName(type)}");
        }
    }

    private static string FriendlyName(Type type) => type == typeof(int) || type == typeof(long) ? "whole number"
        : type == typeof(double) ? "number"
        : type == typeof(bool) ? "true/false value"
        : type.Name;

    private static bool IsSettingsClass(Type type) => type.IsClass && type != typeof(string);
}

/// <summary>The configuration cannot be used; <see cref="Errors"/> name each bad key and what is wrong.</summary>
public sealed class GatewayConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid gateway configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors))
{
    /// <summary>One message per problem, each starting with its key path.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}
