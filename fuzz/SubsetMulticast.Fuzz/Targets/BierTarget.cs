using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.Routing;
using SubsetMulticast.Bier.Text;

namespace SubsetMulticast.Fuzz.Targets;

/// <summary>
/// An RFC 8296 BIER packet: <see cref="BierHeader.Read"/> never throws and a read header re-encodes to its bytes;
/// the text/JSON decoders (<c>tsm bier decode</c>) throw only <see cref="BierFormatException"/>; a BFR
/// (<see cref="BierRouter.Process"/>) drops what it cannot forward, counted, and never throws.
/// </summary>
public sealed class BierTarget : FuzzTarget
{
    // A–B–C, BFR-ids A = 1, C = 2, BSL 64 (the fabric of tests/SubsetMulticast.Bier.Tests/Forwarding/BadPacketTests.cs).
    private static readonly BierRouter Router = Line();

    public override string Name => "bier";
    public override string Description => "BIER header (RFC 8296): Read, round trip, text/JSON decode, BierRouter.Process";
    public override Type? DocumentedException => typeof(BierFormatException);

    private static BierRouter Line()
    {
        var g = new BierGraph();
        g.AddNode("A"); g.AddNode("B"); g.AddNode("C");
        g.AddLink(0, 1, 1, 1);
        g.AddLink(1, 2, 2, 1);
        return BierDomain.Build(g, [new BierSubDomain(0, BitStringLength.Bits64, new Dictionary<int, int> { [0] = 1, [2] = 2 })], ecmp: false).Routers[1];
    }

    protected override void Run(ReadOnlySpan<byte> input)
    {
        var verdict = Router.Process(input, new BierCopyList());
        ContractViolation.Check(verdict.Dropped is null || verdict.Copies == 0 && !verdict.DeliveredLocally, $"dropped ({verdict.Dropped}) yet forwarded");
        _ = BierFrame.TryGetHeader(input, out _);

        var status = BierHeader.Read(input, out var h);
        if (status == BierHeaderStatus.Ok)
        {
            ContractViolation.Check(h.Length <= input.Length && h.BitString.Length == h.Fields.Bsl.Bytes(), "header longer than the bytes given");
            var again = new byte[h.Length];
            ContractViolation.Check(BierHeader.TryWrite(again, h.Fields, h.BitString, out int n) && n == h.Length, "a read header does not re-encode");
            ContractViolation.Check(again.AsSpan().SequenceEqual(input[..n]), "BIER header does not re-encode to its bytes");
            _ = BitString.FromWire(h.BitString);
        }
        _ = BierText.DecodeText(input);
        _ = BierText.DecodeJson(input);
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        foreach (var (bsl, ttl, bits) in new[] { (BitStringLength.Bits64, (byte)2, new[] { 1, 2 }), (BitStringLength.Bits256, (byte)64, new[] { 3, 200 }), (BitStringLength.Bits64, (byte)1, new[] { 2 }) })
        {
            var b = BitString.Of(bsl, bits);
            var f = BierHeaderFields.Create(BierFrame.CanonicalBiftId(bsl, 0, 0), bsl, ttl, BierNextProtocol.Ipv6, 4);
            var p = new byte[BierHeader.LengthFor(bsl) + 7];
            BierHeader.TryWrite(p, f, b.Words, out int n);
            "payload"u8.CopyTo(p.AsSpan(n));
            yield return ($"bsl{bsl.Bits()}-ttl{ttl}", p);
        }
    }
}
