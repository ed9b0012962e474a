using System.CommandLine;
using System.Globalization;

namespace Mlsae.Cli.Commands;

/// <summary>
/// For a run on the embedded model, each option the user left out takes the embedded run's own
/// default instead of the option's (see <see cref="Embedded.EmbeddedModel.RunDefaults"/>), and the
/// replaced values are listed for the one line that says so.
/// </summary>
sealed class EmbeddedRunChoice(ParseResult parse, bool embedded)
{
    /// <summary>"--flag value" for every default replaced, in order.</summary>
    public List<string> Replaced { get; } = [];

    /// <summary>The embedded default when the run is embedded and <paramref name="option"/> was left out, else its parsed value.</summary>
    public T Pick<T>(Option<T> option, T embeddedValue) => Pick(option, embeddedValue, parse.GetValue(option)!);

    /// <summary>As <see cref="Pick{T}(Option{T}, T)"/>, with the option's value already parsed as <paramref name="given"/>.</summary>
    public T Pick<T>(Option<T> option, T embeddedValue, T given)
    {
        if (!embedded || !EmbeddedDefaults.Implicit(parse, option)) return given;
        Replaced.Add($"{option.Name} {Convert.ToString(embeddedValue, CultureInfo.InvariantCulture)}");
        return embeddedValue;
    }
}
