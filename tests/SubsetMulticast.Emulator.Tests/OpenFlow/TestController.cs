using System.Net;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>The real controller composition as the OpenFlow scenario and property tests run it: loopback, free ports, VLAN 0.</summary>
internal static class TestController
{
    public static Task<OpenFlowControllerService> StartAsync() => OpenFlowControllerService.StartAsync(new OpenFlowControllerSettings
    {
        Controller = new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = null,
            Lifecycle = new LifecycleOptions().AddVlan(0, "239.255.0.0/16"),
            ConfigureLogging = l => l.ClearProviders(),
        },
        OpenFlowEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
        Connection = new OpenFlowOptions { HandshakeTimeout = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromSeconds(30) },
        Discovery = new DiscoveryOptions { LldpInterval = TimeSpan.FromSeconds(5), LinkTimeout = TimeSpan.FromSeconds(60) },
    });
}
