using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

public class HubTokenTests
{
    static Func<string, string?> Env(params (string Name, string? Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void TheVariableWinsThenTheTokenFileOfHfHome()
    {
        var home = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(home, "token"), "  hf_from_file\n");
        Assert.Equal("hf_env", HubToken.Find(Env(("HF_TOKEN", "hf_env"), ("HF_HOME", home))));
        Assert.Equal("hf_from_file", HubToken.Find(Env(("HF_HOME", home))));
        Assert.Equal("hf_from_file", HubToken.Find(Env(("HF_TOKEN", " "), ("HF_HOME", home))));   // blank counts as unset
    }

    [Fact]
    public void HfTokenPathOverridesTheFileAndNoTokenIsNull()
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, "elsewhere");
        File.WriteAllText(path, "hf_path");
        Assert.Equal("hf_path", HubToken.Find(Env(("HF_TOKEN_PATH", path), ("HF_HOME", dir))));
        Assert.Null(HubToken.Find(Env(("HF_HOME", dir))));
        Assert.Equal(Path.Combine(dir, "xdg", "huggingface", "token"), HubToken.FilePath(Env(("XDG_CACHE_HOME", Path.Combine(dir, "xdg")))));
    }
}
