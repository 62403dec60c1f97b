namespace SubsetMulticast.Fuzz.Tests;

/// <summary>
/// The CI-cheap half of the fuzzing campaign: every committed corpus file (seeds, and whatever afl-fuzz kept
/// when a campaign's corpus was minimised back in) goes through its target once, uninstrumented. A parser
/// change that breaks a contract on any of them fails here in seconds, without AFL.
/// </summary>
public sealed class CorpusReplayTests
{
    private static readonly string CorpusRoot = FindCorpus();

    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "fuzz", "corpus");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"fuzz/corpus not found above {AppContext.BaseDirectory}");
    }

    public static TheoryData<string> Targets => new(FuzzTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryCorpusFile_RunsThroughItsTarget_WithinTheContract(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var files = Directory.GetFiles(Path.Combine(CorpusRoot, name)).Order().ToArray();
        Assert.NotEmpty(files);
        var failures = new List<string>();
        foreach (var file in files)
        {
            try { target.Execute(File.ReadAllBytes(file)); }
            catch (Exception e) { failures.Add($"{Path.GetFileName(file)}: {e.GetType().Name}: {e.Message}"); }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Seeds_AreCommitted_AndEachIsAcceptedWhole(string name)
    {
        // The seeds are the parsers' test vectors: each must still be in the corpus and read without a fault, or the
        // corpus no longer starts the fuzzer where the parser's real inputs are.
        var target = FuzzTargets.Find(name)!;
        foreach (var (seed, bytes) in target.Seeds())
        {
            var path = Path.Combine(CorpusRoot, name, seed);
            Assert.True(File.Exists(path), $"seed {name}/{seed} is not committed: run `SubsetMulticast.Fuzz seeds fuzz/corpus`");
            Assert.Equal(bytes, File.ReadAllBytes(path));
        }
    }

    [Fact]
    public void EveryTarget_HasACorpus_AndEveryCorpusATarget()
    {
        var dirs = Directory.GetDirectories(CorpusRoot).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(FuzzTargets.All.Select(t => t.Name).Order().ToArray(), dirs);
    }

    [Fact]
    public void Harness_ReportsABrokenContract_AsAnEscapingException()
    {
        // The harness is only as good as its ability to fail: a round trip that does not hold must escape Execute.
        Assert.Throws<ContractViolation>(() => ContractViolation.Check(false, "deliberate"));
        var push = FuzzTargets.Find("push")!;
        push.Execute("TS"u8); // too short: returns, no exception
        push.Execute([0x54, 0x53, 9, 1, 0, 1]); // bad version: the documented PushFormatException is swallowed
    }
}
