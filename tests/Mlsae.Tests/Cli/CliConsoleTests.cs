using Mlsae.Cli;
using Xunit;

namespace Mlsae.Tests.Cli;

public class CliConsoleTests
{
    [Fact]
    public void AnUnexpectedExceptionIsOneLineWithExitCode70AndNoTrace()
    {
        var stderr = new StringWriter();
        var console = new CliConsole(new StringWriter(), stderr);
        int code = console.Guard(() => throw new InvalidOperationException("the thing\nwith a second line"));
        Assert.Equal(70, code);
        Assert.Equal("error: internal error (InvalidOperationException): the thing", stderr.ToString().TrimEnd());
        Assert.DoesNotContain("   at ", stderr.ToString());
    }

    [Fact]
    public void UserErrorsExitWith1()
    {
        var stderr = new StringWriter();
        Assert.Equal(1, new CliConsole(new StringWriter(), stderr).Guard(() => throw new MlsaeException("--k: bad")));
        Assert.Equal("error: --k: bad", stderr.ToString().TrimEnd());
    }
}
