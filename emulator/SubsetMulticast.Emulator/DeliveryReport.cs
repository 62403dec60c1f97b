namespace SubsetMulticast.Emulator;

/// <summary>What one <see cref="EmulatedFabric.Send"/> (or a batch of them) did: frames per host and copies per link.</summary>
public sealed class DeliveryReport
{
    internal DeliveryReport(int hosts, int links)
    {
        FramesPerHost = new int[hosts];
        CopiesPerLink = new int[links];
    }

    /// <summary>Frames that reached each host's NIC (by host index), the sender's own excluded.</summary>
    public int[] FramesPerHost { get; }
    /// <summary>Copies carried by each link (access links first, by host index, then inter-switch links).</summary>
    public int[] CopiesPerLink { get; }
    public long SenderLinkBytes { get; internal set; }
    public long TotalLinkBytes { get; internal set; }
    public int FramesSent { get; internal set; }
    public int MaxCopiesPerLinkPerFrame { get; internal set; }
    /// <summary>Frames dropped because their copies outlived the fabric's hop budget: a forwarding loop.</summary>
    public int LoopDrops { get; internal set; }

    public IEnumerable<int> HostsReached() => Enumerable.Range(0, FramesPerHost.Length).Where(i => FramesPerHost[i] > 0);
}
