using BenchmarkDotNet.Attributes;
using SubsetMulticast.Transfer.Fec;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Benchmarks.Transfer;

/// <summary>
/// Datagram encode (header + payload into a send buffer) and decode (header checks, slice of the payload) on one
/// core. Rate = payload bytes / mean time. Zero allocation expected.
/// </summary>
[MemoryDiagnoser]
public class TransferCodecBenchmarks
{
    private byte[] _payload = [];
    private byte[] _datagram = [];

    [Params(1400, 8800)]
    public int Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[Payload];
        new Random(1).NextBytes(_payload);
        _datagram = new byte[DataMessage.HeaderLength + Payload];
        Encode();
    }

    [Benchmark(Description = "encode data datagram")]
    public int Encode()
    {
        DataMessage.WriteHeader(_datagram, MessageType.Data, 0x1234_5678_9ABC_DEF0, 42);
        _payload.CopyTo(_datagram.AsSpan(DataMessage.HeaderLength));
        return _datagram.Length;
    }

    [Benchmark(Description = "decode data datagram")]
    public int Decode() => DataMessage.TryRead(_datagram, out var m) == ReadStatus.Ok ? m.Payload.Length + (int)m.Index : -1;
}

/// <summary>
/// Layered XOR parity over a 1 MiB chunk of 1400-byte datagrams (749 datagrams): encode = every parity datagram of
/// every layer; decode = rebuild one lost datagram per layer-0 group from its parity and the other members.
/// Rate = chunk bytes / mean time.
/// </summary>
[MemoryDiagnoser]
public class TransferFecBenchmarks
{
    private const int PayloadBytes = 1400;
    private byte[] _chunk = [];
    private byte[] _parity = [];
    private LayeredXorParity _fec;

    [Params(1, 2)]
    public int Layers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _chunk = new byte[1 << 20];
        new Random(2).NextBytes(_chunk);
        _fec = new LayeredXorParity(8, Layers, (_chunk.Length + PayloadBytes - 1) / PayloadBytes);
        _parity = new byte[PayloadBytes];
    }

    [Benchmark(Description = "FEC encode 1 MiB (k=8)")]
    public int Encode()
    {
        int n = 0;
        for (int l = 0; l < _fec.Layers; l++)
            for (int g = 0; g < _fec.GroupCount(l); g++)
            {
                if (_fec.Member(l, g, 0) < 0) continue;
                _fec.Encode(_chunk, PayloadBytes, l, g, _parity);
                n += _parity[0];
            }
        return n;
    }

    /// <summary>Rebuild of the first member of every layer-0 group: parity XOR the other k−1 members (what a receiver does per loss).</summary>
    [Benchmark(Description = "FEC rebuild, 1 loss per group, 1 MiB (k=8)")]
    public int Decode()
    {
        int n = 0;
        for (int g = 0; g < _fec.GroupCount(0); g++)
        {
            // The parity buffer stands in for the received parity; XOR of the other members leaves the lost one.
            _chunk.AsSpan(0, PayloadBytes).CopyTo(_parity);
            for (int p = 1; p < _fec.Rate; p++)
            {
                int i = _fec.Member(0, g, p);
                if (i < 0) break;
                LayeredXorParity.XorInto(_parity, _chunk.AsSpan(i * PayloadBytes, Math.Min(PayloadBytes, _chunk.Length - i * PayloadBytes)));
            }
            n += _parity[1];
        }
        return n;
    }
}
