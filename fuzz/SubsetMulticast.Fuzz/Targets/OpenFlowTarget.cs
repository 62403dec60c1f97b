using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Tests.Protocol;

namespace SubsetMulticast.Fuzz.Targets;

/// <summary>
/// OpenFlow 1.3 messages as the connection's framer reads them from a switch: <see cref="OfpMessage.TryRead"/>
/// over the stream until it needs more bytes. Malformed input may throw only <see cref="OpenFlowFormatException"/>.
/// Every decoded message encodes, and that encoding is a fixed point: decode(encode(m)) encodes to the same bytes.
/// </summary>
public sealed class OpenFlowTarget : FuzzTarget
{
    public override string Name => "openflow";
    public override string Description => "OpenFlow 1.3 byte stream: OfpMessage.TryRead loop, encode fixed point";
    public override Type? DocumentedException => typeof(OpenFlowFormatException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        var rest = input;
        // Each message is at least 8 bytes, so the loop ends; the bound is belt and braces.
        for (int i = 0; i < 1024 && OfpMessage.TryRead(rest, out var message, out int consumed); i++)
        {
            ContractViolation.Check(consumed >= 8 && consumed <= rest.Length && message is not null, $"TryRead consumed {consumed} of {rest.Length}");
            rest = rest[consumed..];
            if (message!.EncodedLength > Ofp.MaxMessageLength) continue; // refused by TryEncode, by design
            var once = message.ToArray();
            var again = OfpMessage.Decode(once).ToArray();
            ContractViolation.Check(once.AsSpan().SequenceEqual(again), $"{message.Type} is not a fixed point of decode∘encode");
        }
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        int i = 0;
        foreach (var m in Samples.All()) yield return ($"{i++:00}-{m.Type}", m.ToArray());
        // Two messages back to back, as they arrive on a connection.
        yield return ("stream-hello-features", [.. new HelloMessage(HelloMessage.Bitmap13).ToArray(), .. new FeaturesRequest { Xid = 2 }.ToArray()]);
    }
}
