namespace SubsetMulticast.Fuzz;

/// <summary>
/// One parser's contract under hostile bytes: <see cref="Run"/> returns normally for every input, or throws
/// the parser's one documented exception type (caught here, by <see cref="Execute"/>). Anything else escaping
/// — an <see cref="IndexOutOfRangeException"/>, an <see cref="ArgumentException"/> from a slice, a
/// <see cref="ContractViolation"/> from a failed round trip — is a finding: AFL records it as a crash.
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>The name run.sh and the replay test use.</summary>
    public abstract string Name { get; }

    /// <summary>What the target feeds its bytes to.</summary>
    public abstract string Description { get; }

    /// <summary>The exception type the parser documents for malformed input, or null when it must never throw.</summary>
    public virtual Type? DocumentedException => null;

    /// <summary>Feeds <paramref name="input"/> to the parser and checks what comes back.</summary>
    protected abstract void Run(ReadOnlySpan<byte> input);

    /// <summary>Seed inputs from the parser's test vectors (written to fuzz/corpus/NAME by <c>seeds</c>).</summary>
    public abstract IEnumerable<(string Name, byte[] Bytes)> Seeds();

    /// <summary>Runs one input; only the documented exception is swallowed.</summary>
    public void Execute(ReadOnlySpan<byte> input)
    {
        try
        {
            Run(input);
        }
        catch (Exception e) when (DocumentedException is { } t && e.GetType() == t)
        {
            // The parser's own verdict on malformed bytes: allowed by its contract.
        }
    }
}

/// <summary>A parser broke a promise other than "no stray exception" (round trip, length, status).</summary>
public sealed class ContractViolation(string message) : Exception(message)
{
    public static void Check(bool condition, string what)
    {
        if (!condition) throw new ContractViolation(what);
    }
}

/// <summary>Every target, by name.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new Targets.FrameTarget(), new Targets.IpTarget(), new Targets.IgmpTarget(), new Targets.MldTarget(),
        new Targets.NeighborDiscoveryTarget(), new Targets.ArpTarget(), new Targets.OpenFlowTarget(),
        new Targets.CaptureTarget(), new Targets.PushTarget(), new Targets.SnmpTarget(), new Targets.BierTarget(),
        new Targets.TransferTarget(),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
