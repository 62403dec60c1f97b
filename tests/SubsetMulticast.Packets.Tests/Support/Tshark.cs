using System.Diagnostics;
using SubsetMulticast.Packets.Capture;

namespace SubsetMulticast.Packets.Tests.Support;

/// <summary>Runs the real tshark (Debian package "tshark") over a pcap of our frames.</summary>
internal static class Tshark
{
    public static string Path()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Append("/usr/bin"))
        {
            var p = System.IO.Path.Combine(dir, "tshark");
            if (File.Exists(p)) return p;
        }
        Assert.Fail("tshark not found: install tshark (apt-get install -y tshark; test.sh does this) to run the dissector cross-checks.");
        return "";
    }

    public static string WritePcap(IEnumerable<byte[]> frames)
    {
        var file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"packets-{Environment.ProcessId}-{Guid.NewGuid():N}.pcap");
        using var w = new PcapWriter(File.Create(file));
        long t = 1_700_000_000_000_000;
        foreach (var f in frames) w.WriteFrame(f, t += 1000);
        return file;
    }

    /// <summary>Runs tshark with checksum validation on; returns stdout lines. Bounded by a 60 s timeout.</summary>
    public static string[] Run(string pcap, params string[] args)
    {
        var psi = new ProcessStartInfo(Path())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-n", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE" }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(true);
            Assert.Fail("tshark did not finish in 60 s");
        }
        Assert.True(p.ExitCode == 0, $"tshark exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
