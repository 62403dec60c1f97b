using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Ip;
using static SubsetMulticast.Packets.Tests.Support.Stack;

namespace SubsetMulticast.Packets.Tests;

/// <summary>
/// Inputs the fuzzing campaign (fuzz/run.sh) found to break a reader's contract, kept as Ethernet frames in
/// corpus/regressions after the fix: each must now walk the whole stack with no exception but ours.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "corpus", "regressions");

    public static TheoryData<string> Reproducers() => new(Directory.GetFiles(Folder).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Reproducers))]
    public void Reproducer_WalksTheStack_WithOnlyOurException(string file)
    {
        var frame = File.ReadAllBytes(Path.Combine(Folder, file));
        // Outcome lets MalformedPacketException through as a reason; anything else fails the test.
        var outcome = Outcome(frame);
        Assert.NotEqual("ok", outcome);
    }

    [Theory]
    [InlineData("ipv6-v4mapped-destination-udp.frame", PacketError.BadAddress, 24)]
    [InlineData("ipv6-v4mapped-source-mld.frame", PacketError.BadSourceAddress, 8)]
    [InlineData("ipv6-v4mapped-source-nd.frame", PacketError.BadSourceAddress, 8)]
    public void Ipv6_WithAnIpv4MappedAddress_IsMalformedAtThatAddress(string file, PacketError reason, int offset)
    {
        // Found by the ip and frame targets: ::ffff:a.b.c.d in an IPv6 header made the ICMPv6/UDP pseudo-header
        // throw ArgumentException ("families differ") out of MldMessage/NeighborMessage/UdpDatagram readers.
        var frame = File.ReadAllBytes(Path.Combine(Folder, file));
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        Assert.Equal(ReadStatus.Malformed, IpPacket.ReadV6(eth.Payload, out _, out var fault));
        Assert.Equal(new PacketFault(reason, offset), fault);
    }
}
