using SubsetMulticast.Transfer.Fec;

namespace SubsetMulticast.Transfer.Tests.Fec;

public sealed class LayeredXorParityTests
{
    [Theory]
    [InlineData(8, 1, 100)]
    [InlineData(8, 2, 100)]
    [InlineData(4, 3, 77)]
    [InlineData(10, 2, 1)]
    public void EveryDatagram_IsInExactlyOneGroupPerLayer(int k, int layers, int count)
    {
        var fec = new LayeredXorParity(k, layers, count);
        for (int l = 0; l < layers; l++)
        {
            var seen = new int[count];
            for (int g = 0; g < fec.GroupCount(l); g++)
                for (int p = 0; p < k; p++)
                    if (fec.Member(l, g, p) is var i and >= 0) { seen[i]++; Assert.Equal(g, fec.GroupOf(l, i)); }
            Assert.All(seen, s => Assert.Equal(1, s));
        }
    }

    /// <summary>One loss per layer-0 group, or a burst of up to k in layer 1, is rebuilt from parity alone.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Burst_UpToK_RebuiltByTheInterleavedLayer(int seed)
    {
        const int k = 8, payload = 100;
        var random = new Random(seed);
        var chunk = new byte[random.Next(5000, 20000)];
        random.NextBytes(chunk);
        int count = (chunk.Length + payload - 1) / payload;
        var fec = new LayeredXorParity(k, 2, count);
        int burstStart = random.Next(0, count - k);
        var lost = Enumerable.Range(burstStart, k).ToHashSet();
        var received = (byte[])chunk.Clone();
        foreach (int i in lost) received.AsSpan(i * payload, Math.Min(payload, chunk.Length - i * payload)).Clear();
        // Layer 1 groups hold every k-th datagram: a burst of k loses one per group.
        foreach (int i in lost)
        {
            int g = fec.GroupOf(1, i);
            var parity = new byte[payload];
            fec.Encode(chunk, payload, 1, g, parity);
            for (int p = 0; p < k; p++)
                if (fec.Member(1, g, p) is var j and >= 0 && j != i)
                    LayeredXorParity.XorInto(parity, received.AsSpan(j * payload, Math.Min(payload, chunk.Length - j * payload)));
            parity.AsSpan(0, Math.Min(payload, chunk.Length - i * payload)).CopyTo(received.AsSpan(i * payload));
        }
        Assert.Equal(chunk, received);
    }
}
