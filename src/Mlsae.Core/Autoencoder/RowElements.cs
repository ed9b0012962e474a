using System.Runtime.Intrinsics;

namespace Mlsae.Autoencoder;

/// <summary>How a selection kernel reads one row of pre-activations as float32 (one implementation
/// per stored dtype, so the JIT specializes the scan for each).</summary>
unsafe interface IRowElements
{
    /// <summary>Element <paramref name="column"/> of the row.</summary>
    static abstract float Load(void* row, long column);

    /// <summary>Elements <paramref name="column"/> … <paramref name="column"/> + 7.</summary>
    static abstract Vector256<float> Load8(void* row, long column);
}

/// <summary>A float32 row.</summary>
unsafe struct Float32Elements : IRowElements
{
    /// <inheritdoc />
    public static float Load(void* row, long column) => ((float*)row)[column];

    /// <inheritdoc />
    public static Vector256<float> Load8(void* row, long column) => Vector256.Load((float*)row + column);
}

/// <summary>A bfloat16 row: a bfloat16 is the upper half of a float32, so widening is a shift.</summary>
unsafe struct BFloat16Elements : IRowElements
{
    /// <inheritdoc />
    public static float Load(void* row, long column) => BitConverter.UInt32BitsToSingle((uint)((ushort*)row)[column] << 16);

    /// <inheritdoc />
    public static Vector256<float> Load8(void* row, long column) =>
        Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load((ushort*)row + column).ToVector256Unsafe()), 16).AsSingle();
}
