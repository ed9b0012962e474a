using System.Text;

namespace Mlsae;

/// <summary>
/// An error caused by the user's input (a file, a flag, a config value). Its message is one line
/// that names what is wrong; the CLI prints it without a stack trace and exits non-zero. Control
/// characters in the message (from a quoted file name or value) are escaped, so it stays one line.
/// </summary>
public class MlsaeException : Exception
{
    /// <summary>Creates the error with a one-line message.</summary>
    public MlsaeException(string message) : base(OneLine(message)) { }

    /// <summary>Creates the error with a one-line message and the exception that caused it.</summary>
    public MlsaeException(string message, Exception inner) : base(OneLine(message), inner) { }

    /// <summary>An error whose message is <paramref name="context"/> followed by the first line of
    /// <paramref name="cause"/>'s message in parentheses, e.g. <c>file.json: invalid JSON (…)</c>.</summary>
    public static MlsaeException From(string context, Exception cause) =>
        new($"{context} ({cause.Message.Split('\n')[0].TrimEnd('\r')})", cause);

    /// <summary><paramref name="message"/> with control characters written as escapes (<c>\n</c>, <c>\u0000</c>).</summary>
    static string OneLine(string message)
    {
        if (!message.Any(char.IsControl)) return message;
        var text = new StringBuilder(message.Length + 8);
        foreach (var c in message)
            text.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return text.ToString();
    }
}
