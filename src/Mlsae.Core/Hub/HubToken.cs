namespace Mlsae.Hub;

/// <summary>
/// The access token as huggingface_hub finds it: the <c>HF_TOKEN</c> variable, else the token file
/// <c>hf auth login</c> writes (<c>HF_TOKEN_PATH</c>, default <c>$HF_HOME/token</c>, default
/// <c>~/.cache/huggingface/token</c>). Leading and trailing whitespace is dropped, and an empty
/// value counts as none, as huggingface_hub's <c>_clean_token</c> does.
/// </summary>
public static class HubToken
{
    /// <summary>The token the environment selects, or null.</summary>
    public static string? FromEnvironment() => Find(Environment.GetEnvironmentVariable);

    /// <summary>The token that <paramref name="variable"/> (an environment lookup) selects, or null.</summary>
    public static string? Find(Func<string, string?> variable)
    {
        if (Clean(variable("HF_TOKEN")) is { } token) return token;
        var path = FilePath(variable);
        try { return File.Exists(path) ? Clean(File.ReadAllText(path)) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MlsaeException.From($"{path}: could not read the hub token file", e);
        }
    }

    /// <summary>Where huggingface_hub keeps the token of <c>hf auth login</c>.</summary>
    public static string FilePath(Func<string, string?> variable)
    {
        if (variable("HF_TOKEN_PATH") is { Length: > 0 } explicitPath) return explicitPath;
        var home = variable("HF_HOME");
        if (string.IsNullOrEmpty(home))
        {
            var xdg = variable("XDG_CACHE_HOME");
            home = Path.Combine(string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg, "huggingface");
        }
        return Path.Combine(home, "token");
    }

    static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
