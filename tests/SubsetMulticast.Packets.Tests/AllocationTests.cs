using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Tests.Support;
using SubsetMulticast.Packets.Udp;

namespace SubsetMulticast.Packets.Tests;

public sealed class AllocationTests
{
    [Fact]
    public void ParsingEveryFrame_AllocatesNothing()
    {
        var frames = Catalog.All().Select(f => f.Bytes).Concat(Vectors.AllFrames.Select(Hex.Parse)).ToArray();
        long digest = 0;
        for (int i = 0; i < frames.Length; i++) { Assert.True(Stack.Walk(frames[i], out var d)); digest += d; }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 1000; round++)
            for (int i = 0; i < frames.Length; i++)
            {
                Stack.Walk(frames[i], out var d);
                digest += d;
            }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, digest);
    }

    [Fact]
    public void BuildingFrames_AllocatesNothing()
    {
        var buffer = new byte[4096];
        var igmp = Catalog.IgmpRecords();
        var mld = Catalog.MldRecords();
        var payload = new byte[100];
        void BuildAll()
        {
            IgmpFrames.WriteV3Report(buffer, Catalog.HostMac, 10, Catalog.HostV4, igmp);
            IgmpFrames.WriteV2Report(buffer, Catalog.HostMac, 10, Catalog.HostV4, Catalog.GroupV4);
            MldFrames.WriteV2Report(buffer, Catalog.HostMac, 10, Catalog.HostV6, mld);
            MldFrames.WriteV1Done(buffer, Catalog.HostMac, 0, Catalog.HostV6, Catalog.GroupV6);
            UdpDatagram.WriteFrame(buffer, Catalog.HostMac, Catalog.PeerMac, 0, Catalog.HostV4, Catalog.GroupV4, 1, 2, payload);
            UdpDatagram.WriteFrame(buffer, Catalog.HostMac, Catalog.PeerMac, 0, Catalog.GlobalV6, Catalog.GroupV6, 1, 2, payload);
            Arp.ArpPacket.WriteGratuitousFrame(buffer, Catalog.HostMac, Catalog.HostV4, 3);
            Ndp.NeighborDiscovery.WriteUnsolicitedAdvertisementFrame(buffer, Catalog.HostMac, Catalog.GlobalV6, 3);
        }
        BuildAll();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) BuildAll();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
