using System.Diagnostics;
using System.Globalization;

namespace SubsetMulticast.Controller.Tests.Observability;

/// <summary>The Prometheus side of the metrics tests: <c>promtool check metrics</c> (Debian package prometheus) and a sample reader.</summary>
public static class Prometheus
{
    /// <summary>Runs promtool on the exposition text; fails with its complaints, or naming the package when it is missing.</summary>
    public static async Task CheckAsync(string exposition)
    {
        var psi = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("check");
        psi.ArgumentList.Add("metrics");
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("promtool is not installed: apt-get install prometheus (test.sh installs it)");
            return;
        }
        using (p)
        {
            await p.StandardInput.WriteAsync(exposition);
            p.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var stdout = p.StandardOutput.ReadToEndAsync(cts.Token);
            var stderr = p.StandardError.ReadToEndAsync(cts.Token);
            await p.WaitForExitAsync(cts.Token);
            Assert.True(p.ExitCode == 0, $"promtool check metrics exited {p.ExitCode}: {await stdout}{await stderr}\n--- exposition ---\n{exposition}");
        }
    }

    /// <summary>
    /// The value of the sample <paramref name="name"/> whose labels include every one of <paramref name="labels"/>
    /// ("key=\"value\""), summed over the matching series; 0 when there is none (a counter not yet incremented).
    /// </summary>
    public static double Sample(string exposition, string name, params string[] labels)
    {
        double sum = 0;
        foreach (var raw in exposition.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            int brace = line.IndexOf('{');
            int space = line.LastIndexOf(' ');
            string metric = brace >= 0 ? line[..brace] : line[..line.IndexOf(' ')];
            if (metric != name) continue;
            string labelText = brace >= 0 ? line[(brace + 1)..line.LastIndexOf('}')] : "";
            if (!labels.All(l => labelText.Split(',').Contains(l))) continue;
            sum += double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return sum;
    }
}
