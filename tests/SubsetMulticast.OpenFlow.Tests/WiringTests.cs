using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using static SubsetMulticast.OpenFlow.Tests.Connections.ListenerTests;

namespace SubsetMulticast.OpenFlow.Tests;

public class WiringTests
{
    [Fact]
    public async Task AddOpenFlowSouthbound_HostStarted_SwitchGetsPuntFlowsAndAcceptsRules()
    {
        var services = new ServiceCollection();
        services.AddOpenFlowSouthbound(o => o.Endpoint = new IPEndPoint(IPAddress.Loopback, 0));
        await using var sp = services.BuildServiceProvider();
        var hosted = sp.GetServices<IHostedService>().ToList();
        foreach (var h in hosted) await h.StartAsync(default);
        try
        {
            var listener = sp.GetRequiredService<OpenFlowListener>();
            await using var sw = new FakeSwitch(0x77);
            await sw.ConnectAsync(listener.LocalEndpoint);
            int punts = sp.GetRequiredService<FabricDiscovery>().PuntFlows().Count;
            await Until(() => { lock (sw.Gate) return sw.Flows.Count == punts; }, "punt flows");
            var southbound = sp.GetRequiredService<ISouthbound>();
            Assert.Equal("openflow", southbound.Name);
            var rule = new GroupRule(new VlanId(0), IpAddress.Parse("239.5.5.5"), [1, 2]);
            Assert.True((await southbound.ApplyAsync([new SwitchChange(sw.SwitchId, null, rule)], default)).Succeeded);
            lock (sw.Gate) Assert.Single(sw.Groups);
            // LLDP went out on each of the 4 ports.
            await Until(() => sw.CountReceived<SubsetMulticast.OpenFlow.Protocol.PacketOut>() >= 4, "LLDP packet-outs");
        }
        finally { foreach (var h in hosted) await h.StopAsync(default); }
    }

    /// <summary>
    /// One ordered pipeline on connect: the switch goes through reconcile, punt flows and LLDP, in that order, each
    /// once; every flow it then holds is in a cookie space of the table.
    /// </summary>
    [Fact]
    public async Task SwitchBootstrap_RunsTheStepsInOrder_AndEveryFlowIsInADeclaredCookieSpace()
    {
        var services = new ServiceCollection();
        services.AddOpenFlowSouthbound(o => o.Endpoint = new IPEndPoint(IPAddress.Loopback, 0));
        await using var sp = services.BuildServiceProvider();
        var bootstrap = sp.GetRequiredService<SubsetMulticast.OpenFlow.Bootstrap.SwitchBootstrap>();
        var completed = new TaskCompletionSource<(string Switch, IReadOnlyList<string> Steps, bool Ok)>(TaskCreationOptions.RunContinuationsAsynchronously);
        bootstrap.Completed += (id, steps, ok) => completed.TrySetResult((id, steps, ok));
        var hosted = sp.GetServices<IHostedService>().ToList();
        foreach (var h in hosted) await h.StartAsync(default);
        try
        {
            var listener = sp.GetRequiredService<OpenFlowListener>();
            await using var sw = new FakeSwitch(0x78);
            await sw.ConnectAsync(listener.LocalEndpoint);
            var done = await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(sw.SwitchId, done.Switch);
            Assert.Equal(["reconcile", "punt flows", "LLDP probe"], done.Steps);
            Assert.True(done.Ok);
            var spaces = CookieSpaces.All.Select(c => c.Prefix).ToHashSet();
            lock (sw.Gate)
            {
                Assert.NotEmpty(sw.Flows);
                Assert.All(sw.Flows, f => Assert.Contains(CookieSpaces.PrefixOf(f.Cookie), spaces));
            }
        }
        finally { foreach (var h in hosted) await h.StopAsync(default); }
    }

    [Fact]
    public void CookieSpaces_AreDistinct_AndTheDefaultsUseThem()
    {
        Assert.Equal(CookieSpaces.All.Count, CookieSpaces.All.Select(c => c.Prefix).Distinct().Count());
        Assert.Equal(CookieSpaces.GroupRules, new SubsetMulticast.OpenFlow.Southbound.OpenFlowSouthboundOptions().CookiePrefix);
        Assert.Equal(CookieSpaces.PuntFlows, new DiscoveryOptions().PuntCookiePrefix);
    }
}
