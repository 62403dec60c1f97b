using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using SubsetMulticast.Controller.Api;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Benchmarks.Controller;

/// <summary>
/// The create handler's "parse" hop taken alone: the body as the latency proof's client sends it, deserialised with the
/// API's source-generated context and its three members parsed as addresses. Run hot, back to back; the hop measured
/// in a request (Server-Timing, results/latency-quick.md) is the same code on a thread that has just woken up.
/// </summary>
[MemoryDiagnoser]
public class CreateBodyParseBenchmarks
{
    private readonly byte[] _body = Encoding.UTF8.GetBytes(
        "{\"vlan\":0,\"reference\":\"239.1.0.1\",\"members\":[\"10.0.0.3\",\"10.0.0.7\",\"10.0.0.12\"],\"ttlMs\":60000,\"setup\":\"confirmed\"}");

    [Benchmark]
    public ulong DeserializeAndParseMembers()
    {
        var body = JsonSerializer.Deserialize(_body, ApiJsonContext.Default.CreateGroupBody)!;
        ulong sum = 0;
        foreach (var m in body.Members!)
            if (IpAddress.TryParse(m, out var a)) sum += a.Low;
        return sum;
    }
}
