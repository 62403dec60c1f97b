namespace SubsetMulticast.Packets.Tests.Support;

/// <summary>
/// Real captures (tcpdump's test pcaps as reproduced in google/gopacket layers/igmp_test.go and mldv2_test.go),
/// with tcpdump/tshark's reading in the comment.
/// </summary>
internal static class Vectors
{
    // 10.60.0.132 > 224.0.1.60: igmp v1 report 224.0.1.60 (Ethernet padding after IP total length 28)
    public const string IgmpV1Report =
        "01005e00013c0030c1bf5755080045000 01c6a7f000001026365 0a3c0084e000013c12000cc3e000013c000000000000ffffffffffff045200000000";
    // 10.60.0.189 > 224.0.0.1: igmp query v2, max resp 10.0 s (0x64)
    public const string IgmpV2Query =
        "01005e0000010001636fc800080045c0001c0153000001 02ccd30a3c00bde00000011164ee9b000000000000000000000000000000000000000000000000";
    // 10.60.5.103 > 239.255.255.253: igmp v2 report 239.255.255.253, IHL 6 with Router Alert
    public const string IgmpV2Report =
        "01005e7ffffd001558dcd9f60800460000 2079f000000102ab470a3c0567effffffd940400001600fa01effffffd000000000000000000000000000000";
    // 192.168.1.254 > 224.0.0.1: igmp query v3 [max resp time 2.4s], QRV 2, QQIC 20
    public const string IgmpV3Query =
        "01005e00000100 26446c1eda080046c0002417f140000102297bc0a801fee00000019404000011 18ecd3000000000214000000000000000000000000000000";
    // 192.168.1.66 > 224.0.0.22: igmp v3 report, 2 group record(s): EXCLUDE 239.195.7.2, EXCLUDE 239.255.255.250
    public const string IgmpV3Report =
        "01005e000016 00252e51c3810800465800300 13c000001028133c0a80142e00000169404000022 00f33c0000000202000000efc30702020000 00effffffa";
    // fe80::b2a8:6eff:fe0c:d4e8 > ff02::1: MLDv2 query, MRC 10000, QRV 2, QQIC 60, 0 sources; checksum 0x623a
    public const string MldV2Query =
        "333300000001b0a86e0cd4e886dd600000000024 0001fe80000000000000b2a86efffe0cd4e8ff020000000000000000000000000001" +
        "3a00050200000100" + "8200623a27100000" + "00000000000000000000000000000000" + "023c0000";
    // fe80::215:17ff:fecc:e546 > ff02::16: MLDv2 report, 4 records, all EXCLUDE {} ; checksum 0x2a0e
    public const string MldV2Report =
        "333300000016001517cce54686dd6000000000600001fe800000000000000215 17fffecce546ff020000000000000000000000000016" +
        "3a000502000001008f002a0e00000004" +
        "02000000ff020000000000000000 0db811223344" +
        "02000000ff0200000000000000000001ffcce546" +
        "02000000ff0200000000000000000001ffa710ad" +
        "02000000ff0200000000000000000001ff000002";
    // RFC 1071-style worked example (also Wikipedia "IPv4 header checksum"): 192.168.0.1 > 192.168.0.199, UDP, checksum 0xb861
    public const string Ipv4HeaderOnly = "450000730000400040 11b861c0a80001c0a800c7";

    public static readonly string[] AllFrames = [IgmpV1Report, IgmpV2Query, IgmpV2Report, IgmpV3Query, IgmpV3Report, MldV2Query, MldV2Report];
}
