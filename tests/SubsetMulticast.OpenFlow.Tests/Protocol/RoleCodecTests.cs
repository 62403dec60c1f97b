using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Tests.Interop;

namespace SubsetMulticast.OpenFlow.Tests.Protocol;

/// <summary>OFPT_ROLE_REQUEST / OFPT_ROLE_REPLY (operations.md §4): vectors, round trips, hostile bodies, OVS's own decoder.</summary>
public class RoleCodecTests
{
    [Theory]
    // operations.md §4 [checked with ovs-ofctl]: request MASTER, generation 5, xid 1.
    [InlineData("04180018 00000001 00000002 00000000 0000000000000005", OfpType.RoleRequest, ControllerRole.Master, 5UL)]
    // reply SLAVE, generation 2^63 + 1 (ids wrap: compared as a signed difference)
    [InlineData("04190018 00000009 00000003 00000000 8000000000000001", OfpType.RoleReply, ControllerRole.Slave, 0x8000000000000001UL)]
    // NOCHANGE query
    [InlineData("04180018 00000002 00000000 00000000 0000000000000000", OfpType.RoleRequest, ControllerRole.NoChange, 0UL)]
    public void Decode_HexVector_ReencodesToSameBytes(string hex, OfpType type, ControllerRole role, ulong generation)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        var m = Assert.IsAssignableFrom<RoleMessage>(OfpMessage.Decode(bytes));
        Assert.Equal(type, m.Type);
        Assert.Equal(role, m.Role);
        Assert.Equal(generation, m.GenerationId);
        Assert.Equal(bytes, m.ToArray());
    }

    [Fact]
    public void Encode_MasterGeneration5_IsTheCheckedVector()
    {
        var bytes = new RoleRequest(ControllerRole.Master, 5) { Xid = 1 }.ToArray();
        Assert.Equal("041800180000000100000002000000000000000000000005", Convert.ToHexStringLower(bytes));
        Assert.Equal(RoleMessage.Length, bytes.Length);
    }

    [Theory]
    [InlineData("04180010 00000001 00000002 00000000")]                                  // body too short
    [InlineData("04180020 00000001 00000002 00000000 0000000000000005 0000000000000000")] // body too long
    [InlineData("04190018 00000001 00000004 00000000 0000000000000005")]                 // role 4 does not exist
    public void Decode_Malformed_ThrowsOurFormatExceptionWithOffset(string hex)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        var e = Assert.Throws<OpenFlowFormatException>(() => OfpMessage.Decode(bytes));
        Assert.True(e.Offset >= 8, $"offset {e.Offset}");
    }

    [Fact]
    public void Decode_RandomBodies_NeverThrowAnythingElse()
    {
        var random = new Random(12);
        for (int i = 0; i < 5000; i++)
        {
            int body = random.Next(0, 40);
            var bytes = new byte[8 + body];
            random.NextBytes(bytes.AsSpan(8));
            bytes[0] = 4; bytes[1] = (byte)(random.Next(2) == 0 ? 24 : 25);
            bytes[2] = (byte)(bytes.Length >> 8); bytes[3] = (byte)bytes.Length;
            try { OfpMessage.Decode(bytes); }
            catch (OpenFlowFormatException) { }
        }
    }

    [Theory]
    [InlineData(5UL, 4UL, false)]
    [InlineData(4UL, 5UL, true)]
    [InlineData(5UL, 5UL, false)]
    [InlineData(0UL, ulong.MaxValue, false)]                 // wrapped: 0 is one after 2^64 − 1
    [InlineData(0x8000000000000000UL, 0UL, true)]            // exactly half the space ahead reads as behind
    public void IsStale_IsTheSignedDifference(ulong offered, ulong cached, bool stale) =>
        Assert.Equal(stale, RoleMessage.IsStale(offered, cached));

    [Fact]
    public void OvsOfpPrint_ReadsOurRoleRequestAndReply()
    {
        string ofctl = Shell.Require("ovs-ofctl", "openvswitch-switch");
        string request = Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(new RoleRequest(ControllerRole.Master, 7) { Xid = 3 }.ToArray())}");
        Assert.Contains("OFPT_ROLE_REQUEST", request);
        Assert.Contains("role=primary generation_id=7", request); // OVS 3.1 prints MASTER as primary
        string reply = Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(new RoleReply(ControllerRole.Slave, 9) { Xid = 3 }.ToArray())}");
        Assert.Contains("OFPT_ROLE_REPLY", reply);
        Assert.Contains("role=secondary generation_id=9", reply);
    }
}
