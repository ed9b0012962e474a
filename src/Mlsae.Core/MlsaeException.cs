namespace Mlsae;

/// <summary>
/// An error caused by the user's input (a file, a flag, a config value). Its message is one line
/// that names what is wrong; the CLI prints it without a stack trace and exits non-zero.
/// </summary>
public class MlsaeException : Exception
{
    /// <summary>Creates the error with a one-line message.</summary>
    public MlsaeException(string message) : base(message) { }

    /// <summary>Creates the error with a one-line message and the exception that caused it.</summary>
    public MlsaeException(string message, Exception inner) : base(message, inner) { }

    /// <summary>An error whose message is <paramref name="context"/> followed by the first line of
    /// <paramref name="cause"/>'s message in parentheses, e.g. <c>file.json: invalid JSON (…)</c>.</summary>
    public static MlsaeException From(string context, Exception cause) =>
        new($"{context} ({cause.Message.Split('\n')[0].TrimEnd('\r')})", cause);
}
