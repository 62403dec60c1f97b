using System.Globalization;
using System.Text;

namespace SubsetMulticast.Cli.Load;

/// <summary>What a load run measured, and whether the switches ended as the controller says they are.</summary>
public sealed record LoadReport
{
    public required LoadOptions Options { get; init; }
    public required int SwitchCount { get; init; }
    public required int HostCount { get; init; }
    public required TimeSpan ConnectTime { get; init; }
    public required TimeSpan LearnTime { get; init; }
    public required TimeSpan LiveFillTime { get; init; }
    public required long Cycles { get; init; }
    public required long Refused { get; init; }
    public required long Failed { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public required Percentiles Setup { get; init; }
    public required Percentiles Release { get; init; }
    public required double CpuCores { get; init; }

    /// <summary>The part of <see cref="CpuCores"/> spent in the kernel (system time: the sockets' sends, receives and epoll, futex wake-ups).</summary>
    public double KernelCpuCores { get; init; }

    /// <summary>Time (wall, on the JIT's threads) spent compiling inside the measured window: methods still tiering up.</summary>
    public TimeSpan JitTime { get; init; }
    public long JitMethods { get; init; }

    /// <summary>Bytes allocated by the whole process (controller, clients and emulated switches) inside the window.</summary>
    public long AllocatedBytes { get; init; }
    public int Gen0Collections { get; init; }
    public int Gen2Collections { get; init; }

    /// <summary>Contended <see cref="Monitor"/> entries in the window (whole process).</summary>
    public long LockContentions { get; init; }

    /// <summary>Thread-pool work items completed in the window (socket completions, continuations, pumps).</summary>
    public long WorkItems { get; init; }

    /// <summary>Barrier batches the switches confirmed in the window (null without OpenFlow).</summary>
    public long? Barriers { get; init; }
    public required long ManagedBytesBefore { get; init; }
    public required long ManagedBytesAfterFill { get; init; }
    public required long WorkingSetPeak { get; init; }
    public required int LiveAtEnd { get; init; }
    public required TableCheck Tables { get; init; }
    public required string? FirstError { get; init; }

    public double CyclesPerSecond => Elapsed.TotalSeconds > 0 ? Cycles / Elapsed.TotalSeconds : 0;

    /// <summary>CPU time per create + release cycle, µs, for a CPU figure in cores over the window.</summary>
    public double MicrosPerCycle(double cores) => Cycles > 0 ? cores * Elapsed.TotalSeconds * 1e6 / Cycles : 0;

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var o = Options;
        var b = new StringBuilder();
        b.AppendLine(c, $"load: {o.Clients} clients, {o.Path}, setup {o.Setup}, {o.Switches} switches ({SwitchCount} switches, {HostCount} hosts, fabric {o.Fabric}), {o.Members} members per group");
        b.AppendLine(c, $"  fabric connected in {ConnectTime.TotalSeconds:0.00} s, learned (links, reference group, hosts) {LearnTime.TotalSeconds:0.00} s later");
        if (o.LiveGroups > 0)
            b.AppendLine(c, $"  {o.LiveGroups:N0} live groups created in {LiveFillTime.TotalSeconds:0.0} s; managed heap {ManagedBytesBefore / 1048576.0:0} MiB before, {ManagedBytesAfterFill / 1048576.0:0} MiB after ({(ManagedBytesAfterFill - ManagedBytesBefore) / (double)Math.Max(1, o.LiveGroups):0} B per group)");
        b.AppendLine(c, $"  {Cycles:N0} {(o.Setup == Core.Lifecycle.SetupMode.Persistent ? "creates (look-ups in the installed persistent sets; nothing released)" : "create+release cycles")} in {Elapsed.TotalSeconds:0.0} s = {CyclesPerSecond:N0}/s; refused {Refused:N0}, failed {Failed:N0}{(FirstError is null ? "" : $" (first: {FirstError})")}");
        b.AppendLine(c, $"  setup   {Setup}");
        b.AppendLine(c, $"  release {Release}");
        b.AppendLine(c, $"  process CPU {CpuCores:0.00} cores (controller and emulated switches share the process) = {MicrosPerCycle(CpuCores):0} µs per cycle, {MicrosPerCycle(KernelCpuCores):0} µs of it in the kernel; JIT still compiling in the window: {JitMethods:N0} methods, {JitTime.TotalMilliseconds:0} ms (wall); working set peak {WorkingSetPeak / 1048576.0:0} MiB");
        b.AppendLine(c, $"  allocated {AllocatedBytes / (double)Math.Max(1, Cycles):N0} B per cycle (whole process), {Gen0Collections} gen0 / {Gen2Collections} gen2 collections in the window");
        double perCycle(long n) => n / (double)Math.Max(1, Cycles);
        b.AppendLine(c, $"  per cycle: {perCycle(LockContentions):0.00} contended lock entries, {perCycle(WorkItems):0.0} thread-pool work items{(Barriers is { } br ? $", {perCycle(br):0.00} barrier batches (switch writes)" : "")}");
        b.AppendLine(c, $"  tables at the end: {LiveAtEnd:N0} live groups; {Tables}");
        return b.ToString();
    }
}

/// <summary>The emulated switches' tables against the controller's live groups, after the run.</summary>
/// <param name="Missing">Rules of a live group whose GROUP is absent from its switch.</param>
/// <param name="Extra">Groups of ours on a switch that no live group explains (a released or refused group left behind).</param>
/// <param name="OrphanFlows">Flows of ours pointing at a group that is absent or not live.</param>
/// <param name="MissingFlows">Rules of a live group whose group is there but no flow of ours sends its address to it.</param>
public sealed record TableCheck(int Switches, int ExpectedRules, int Matched, int Missing, int Extra, int WrongPorts, int OrphanFlows, bool Checked, int MissingFlows = 0)
{
    /// <summary>Every flow the switches hold at the end, ours or not (what the emulated switch scans per FLOW_MOD).</summary>
    public int FlowsOnSwitches { get; init; }

    public bool Clean => Checked && Missing == 0 && Extra == 0 && WrongPorts == 0 && OrphanFlows == 0 && MissingFlows == 0;

    public override string ToString() => !Checked ? "not checked (emulator southbound)" :
        $"{ExpectedRules:N0} rules expected on {Switches} switches: {Matched:N0} matched, {Missing} missing, {MissingFlows} without their flow, {Extra} extra groups, {WrongPorts} wrong portsets, {OrphanFlows} flows without their group ({FlowsOnSwitches:N0} flows on the switches in all) — {(Clean ? "CLEAN" : "NOT CLEAN")}";
}
