using SkiaSharp;
using Xunit;

namespace Mlsae.Tests.Reports;

/// <summary>Checks on the PNG figures.</summary>
public static class Png
{
    /// <summary>Asserts the file decodes as a <paramref name="width"/> × <paramref name="height"/> image that is not blank.</summary>
    public static void AssertImage(string path, int width, int height)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 7)
            for (int x = 0; x < bitmap.Width; x += 7) colours.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colours.Count > 20, $"{path} looks blank ({colours.Count} colours)");
    }
}
