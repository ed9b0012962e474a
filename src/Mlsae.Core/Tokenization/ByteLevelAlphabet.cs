namespace Mlsae.Tokenization;

/// <summary>GPT-2's reversible byte ↔ printable-character table (<c>bytes_to_unicode</c>): printable
/// Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards in byte order.</summary>
public static class ByteLevelAlphabet
{
    /// <summary>The character standing for each byte.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>The byte of each table character; -1 for characters outside the table.</summary>
    public static readonly short[] CharToByte = Invert(ByteToChar);

    static char[] Build()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    static short[] Invert(char[] table)
    {
        var inverse = new short[0x200];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++) inverse[table[b]] = (short)b;
        return inverse;
    }

    /// <summary>Appends the table characters of the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static void Encode(ReadOnlySpan<char> text, System.Text.StringBuilder into)
    {
        Span<byte> buffer = text.Length <= 256 ? stackalloc byte[text.Length * 3] : new byte[System.Text.Encoding.UTF8.GetMaxByteCount(text.Length)];
        int n = System.Text.Encoding.UTF8.GetBytes(text, buffer);
        foreach (var b in buffer[..n]) into.Append(ByteToChar[b]);
    }

    /// <summary>Appends the bytes a token stands for: through the table when every character is in
    /// it, else the token's own UTF-8 (how HF's ByteLevel decoder treats e.g. whitespace added tokens).</summary>
    public static void Decode(string token, List<byte> into)
    {
        foreach (var c in token)
            if (c >= CharToByte.Length || CharToByte[c] < 0)
            {
                into.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
                return;
            }
        foreach (var c in token) into.Add((byte)CharToByte[c]);
    }
}
