using Xunit;

namespace Mlsae.Tests;

public class MlsaeExceptionTests
{
    [Fact]
    public void ControlCharactersInAMessageAreEscapedSoItStaysOneLine()
    {
        Assert.Equal("config.json: model_type 'gpt_\\neox\\u0000' is not supported", new MlsaeException("config.json: model_type 'gpt_\neox\0' is not supported").Message);
        Assert.Equal("a\\r\\tb", new MlsaeException("a\r\tb", new Exception()).Message);
        Assert.Equal("plain", new MlsaeException("plain").Message);
    }
}
