using System.Numerics;
using System.Runtime.InteropServices;

namespace SubsetMulticast.Transfer.Fec;

/// <summary>
/// Layered interleaved XOR parity (Maelstrom, Balakrishnan et al., NSDI 2008): layer <c>l</c> XORs every
/// <c>k</c> datagrams spaced <c>k^l</c> apart into one parity datagram, so layer 0 repairs one loss in each run
/// of <c>k</c> consecutive datagrams and layer 1 one loss per group of a burst up to <c>k</c> long. Any one
/// missing datagram of a group is rebuilt as the XOR of the group's parity and its other members, without a
/// round trip. Overhead per layer: 1/k. Datagrams shorter than the payload size (the last one) count as
/// zero-padded.
/// </summary>
public readonly struct LayeredXorParity
{
    public LayeredXorParity(int rate, int layers, int datagramCount)
    {
        if (rate < 2 || rate > 64) throw new ArgumentOutOfRangeException(nameof(rate));
        if (layers < 1 || layers > 3) throw new ArgumentOutOfRangeException(nameof(layers));
        Rate = rate;
        Layers = layers;
        DatagramCount = datagramCount;
    }

    public int Rate { get; }
    public int Layers { get; }
    public int DatagramCount { get; }

    /// <summary>Spacing of a group's members in a layer: k^layer.</summary>
    public int Interleave(int layer) => layer switch { 0 => 1, 1 => Rate, _ => Rate * Rate };

    /// <summary>Groups in a layer (some at the tail may be empty: <see cref="GroupSize"/> is then 0).</summary>
    public int GroupCount(int layer)
    {
        int interleave = Interleave(layer), block = interleave * Rate;
        return (DatagramCount + block - 1) / block * interleave;
    }

    /// <summary>The group of <paramref name="index"/> in a layer.</summary>
    public int GroupOf(int layer, int index)
    {
        int interleave = Interleave(layer), block = interleave * Rate;
        return index / block * interleave + index % interleave;
    }

    /// <summary>The <paramref name="position"/>-th member (0 … k−1) of a group, or −1 past the chunk's end.</summary>
    public int Member(int layer, int group, int position)
    {
        int interleave = Interleave(layer), block = interleave * Rate;
        int index = group / interleave * block + group % interleave + position * interleave;
        return index < DatagramCount ? index : -1;
    }

    public int GroupSize(int layer, int group)
    {
        int n = 0;
        for (int p = 0; p < Rate; p++) if (Member(layer, group, p) >= 0) n++;
        return n;
    }

    /// <summary>XORs <paramref name="source"/> into <paramref name="accumulator"/> (source may be shorter).</summary>
    public static void XorInto(Span<byte> accumulator, ReadOnlySpan<byte> source)
    {
        int i = 0;
        var acc = MemoryMarshal.Cast<byte, Vector<byte>>(accumulator[..source.Length]);
        var src = MemoryMarshal.Cast<byte, Vector<byte>>(source);
        for (int v = 0; v < src.Length; v++) acc[v] ^= src[v];
        i = src.Length * Vector<byte>.Count;
        for (; i < source.Length; i++) accumulator[i] ^= source[i];
    }

    /// <summary>Computes the parity of one group from the chunk into <paramref name="parity"/> (length = payload size).</summary>
    public void Encode(ReadOnlySpan<byte> chunk, int payload, int layer, int group, Span<byte> parity)
    {
        parity.Clear();
        for (int p = 0; p < Rate; p++)
        {
            int index = Member(layer, group, p);
            if (index < 0) break;
            int offset = index * payload;
            XorInto(parity, chunk.Slice(offset, Math.Min(payload, chunk.Length - offset)));
        }
    }
}
