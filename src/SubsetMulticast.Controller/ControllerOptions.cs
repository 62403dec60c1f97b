using System.Net;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller;

/// <summary>How a prepared transaction reaches the switches.</summary>
public enum ApplyMode
{
    /// <summary>The controller computes each switch's portset and programs it through <see cref="Core.Southbound.ISouthbound"/>.</summary>
    Computed,
    /// <summary>draft §7.1: one signed instruction with the effective members goes to every forwarding control agent (<see cref="Core.Southbound.IPushTarget"/>).</summary>
    Pushed,
}

/// <summary>The controller service's settings (<c>AddSubsetMulticast(o => …)</c>). Not to be changed once the host has started.</summary>
public sealed record ControllerOptions
{
    /// <summary>Where the REST API listens; port 0 picks a free port (see <see cref="TsmControllerHost.ApiUrl"/>).</summary>
    public string ApiUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Where the push-instruction UDP endpoint listens; null turns it off. Port 0 picks a free port.</summary>
    public IPEndPoint? PushUdp { get; set; } = new(IPAddress.Loopback, 9470);

    public ApplyMode Mode { get; set; } = ApplyMode.Computed;

    /// <summary>VLANs, address blocks, TTL limits.</summary>
    public LifecycleOptions Lifecycle { get; set; } = new();

    /// <summary>Verifies instructions arriving on <see cref="PushUdp"/> and signs those sent in <see cref="ApplyMode.Pushed"/>. Empty: every instruction is refused as an unknown key.</summary>
    public PushKeyRing PushKeys { get; set; } = new();

    /// <summary>The key id the controller signs its own instructions with (pushed mode).</summary>
    public ushort PushKeyId { get; set; } = 1;

    /// <summary>The sender id in the controller's own instructions (pushed mode); agents keep a replay window per sender.</summary>
    public uint PushSenderId { get; set; } = 1;

    /// <summary>How often the lease sweeper looks for expired groups.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>At most this many groups are expired per sweep; the rest wait for the next one.</summary>
    public int SweepBatch { get; set; } = 1024;

    /// <summary>How many expiries of one sweep run at once.</summary>
    public int SweepParallelism { get; set; } = 4;

    /// <summary>Where group records live; null for the embedded in-memory store.</summary>
    public IGroupStore? Store { get; set; }

    /// <summary>The rule audit (intended vs installed rules per switch): its periodic interval and parallelism.</summary>
    public Audit.RuleAuditOptions Audit { get; set; } = new();

    /// <summary>Adjusts logging (tests clear the providers; <c>tsm serve</c> keeps the console).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }
}
