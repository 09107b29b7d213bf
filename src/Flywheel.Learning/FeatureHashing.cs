using System.Buffers;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Flywheel.Learning;

/// <summary>
/// Stable feature hashing (docs/architecture.md): XxHash3 over UTF-8, seeded by the namespace's hash, so a model means the same
/// thing in every process. Crosses combine 64-bit hashes; only the final index is masked to the table size.
/// </summary>
public static class FeatureHashing
{
    private const ulong NamespaceSeed = 0x666C7977_6865656CUL; // "flywheel"
    private const ulong CrossMultiplier = 0x9E3779B97F4A7C15UL;
    private const ulong IndexMultiplier = 0xFF51AFD7ED558CCDUL;

    /// <summary>Name of the implicit namespace that holds each action's id, so every action has weights of its own.</summary>
    public const string ActionIdNamespace = "@action";

    /// <summary>The hash of the constant feature.</summary>
    public static readonly ulong Constant = Hash("constant", NamespaceHash("@constant"));

    /// <summary>The seed for features of a namespace.</summary>
    public static ulong NamespaceHash(string name) => Hash(name, NamespaceSeed);

    /// <summary>Hashes a feature name (numeric and boolean features).</summary>
    public static ulong Hash(string text, ulong seed)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= 512)
        {
            Span<byte> buffer = stackalloc byte[max];
            var n = Encoding.UTF8.GetBytes(text, buffer);
            return XxHash3.HashToUInt64(buffer[..n], (long)seed);
        }
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var n = Encoding.UTF8.GetBytes(text, rented);
            return XxHash3.HashToUInt64(rented.AsSpan(0, n), (long)seed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Hashes a categorical feature <c>name=value</c>.</summary>
    public static ulong HashCategorical(string name, string value, ulong seed)
    {
        var length = name.Length + 1 + value.Length;
        if (length <= 256)
        {
            Span<char> chars = stackalloc char[length];
            name.AsSpan().CopyTo(chars);
            chars[name.Length] = '=';
            value.AsSpan().CopyTo(chars[(name.Length + 1)..]);
            Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(length)];
            var n = Encoding.UTF8.GetBytes(chars, bytes);
            return XxHash3.HashToUInt64(bytes[..n], (long)seed);
        }
        return Hash(string.Concat(name, "=", value), seed);
    }

    /// <summary>Combines the hashes of crossed features; order matters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Cross(ulong left, ulong right) => CrossLeft(left) ^ right;

    /// <summary>
    /// The left operand's share of <see cref="Cross"/>: Cross(l, r) = CrossLeft(l) ^ r, so a left side crossed with many
    /// right sides is mixed once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong CrossLeft(ulong left) => ulong.RotateLeft(left * CrossMultiplier, 29);

    /// <summary>
    /// indices[i] = Index(mixedLeft[i] ^ right, mask) for every i: the crossed indices of one right-hand hash with a
    /// premixed left side (<see cref="CrossLeft"/>), eight at a time where the hardware multiplies 64-bit lanes.
    /// </summary>
    public static void CrossIndices(ReadOnlySpan<ulong> mixedLeft, ulong right, int mask, Span<int> indices)
    {
        if (indices.Length < mixedLeft.Length)
        {
            throw new ArgumentException("indices is shorter than the left side", nameof(indices));
        }
        var i = 0;
        if (Vector256.IsHardwareAccelerated && Avx512DQ.VL.IsSupported)
        {
            var r = Vector256.Create(right);
            var m = Vector256.Create(IndexMultiplier);
            var maskV = Vector256.Create((uint)mask);
            ref var left0 = ref MemoryMarshal.GetReference(mixedLeft);
            ref var out0 = ref Unsafe.As<int, uint>(ref MemoryMarshal.GetReference(indices));
            for (; i + 8 <= mixedLeft.Length; i += 8)
            {
                var a = Vector256.LoadUnsafe(ref left0, (nuint)i) ^ r;
                var b = Vector256.LoadUnsafe(ref left0, (nuint)(i + 4)) ^ r;
                a ^= Vector256.ShiftRightLogical(a, 33);
                b ^= Vector256.ShiftRightLogical(b, 33);
                a *= m;
                b *= m;
                a ^= Vector256.ShiftRightLogical(a, 33);
                b ^= Vector256.ShiftRightLogical(b, 33);
                (Vector256.Narrow(a, b) & maskV).StoreUnsafe(ref out0, (nuint)i);
            }
        }
        for (; i < mixedLeft.Length; i++)
        {
            indices[i] = Index(mixedLeft[i] ^ right, mask);
        }
    }

    /// <summary>The weight-table slot of a hash, mixed so that every bit of the hash reaches the low bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(ulong hash, int mask)
    {
        hash ^= hash >> 33;
        hash *= IndexMultiplier;
        hash ^= hash >> 33;
        return (int)hash & mask;
    }
}
