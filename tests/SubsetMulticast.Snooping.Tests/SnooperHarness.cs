namespace SubsetMulticast.Snooping.Tests;

/// <summary>A snooper with ports p1..p4 and a clock in seconds.</summary>
internal sealed class SnooperHarness
{
    public static readonly long T0 = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).UtcTicks
        - DateTimeOffset.UnixEpoch.UtcTicks;

    public readonly Snooper Snooper;
    public readonly List<SnoopingChange> Changes = [];
    public readonly List<byte[]> Sent = [];

    public SnooperHarness(SnoopingOptions? options = null)
    {
        Snooper = new Snooper(options, TimeProvider.System, options?.Querier is null ? null : new Capture(this));
        for (int i = 1; i <= 4; i++) Snooper.AddPort($"p{i}");
        Snooper.Changed += c => Changes.Add(c);
    }

    private sealed class Capture(SnooperHarness h) : IFrameTransmitter
    {
        public void Send(Core.Addressing.VlanId vlan, ReadOnlySpan<byte> frame) => h.Sent.Add(frame.ToArray());
    }

    public static long At(double seconds) => T0 + (long)(seconds * TimeSpan.TicksPerSecond);

    public FrameOutcome Feed(int port, byte[] frame, double seconds) => Snooper.Process(new PortId(port - 1), frame, At(seconds));

    public void Advance(double seconds) => Snooper.AdvanceTo(At(seconds));

    public string[] Members(string group, ushort vlan = 0) => [.. Snooper.GetMemberPorts(vlan, Frames.Ip(group))];

    public GroupMembership? Membership(string group, string port) =>
        Snooper.Snapshot().Groups.SingleOrDefault(g => g.Group == Frames.Ip(group) && g.Port == port);
}
