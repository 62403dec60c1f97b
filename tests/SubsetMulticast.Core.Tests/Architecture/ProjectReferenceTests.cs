using System.Xml.Linq;

namespace SubsetMulticast.Core.Tests.Architecture;

/// <summary>
/// Dependencies point one way (core ← protocols ← service/CLI), read from the csproj files themselves:
/// no library takes the ASP.NET Core framework or a Microsoft.Extensions implementation package (abstractions only),
/// nothing references the controller, the CLI or the emulator from below, the emulator does not reference the
/// learner, and the project graph has no cycle. A new library under src/ is held to the same rules.
/// </summary>
public sealed class ProjectReferenceTests
{
    /// <summary>The composition layer: may reference anything below it and the ASP.NET Core framework. Cluster composes the
    /// controller with etcd (durable groups, mastership), so it sits beside the controller, below the CLI.</summary>
    private static readonly HashSet<string> Hosts = ["SubsetMulticast.Controller", "SubsetMulticast.Cluster", "SubsetMulticast.Cli"];

    /// <summary>What the emulator (a fabric, not a controller) must not know.</summary>
    private static readonly string[] NotForEmulator = ["SubsetMulticast.Learning", "SubsetMulticast.Controller", "SubsetMulticast.Cli"];

    private sealed record ProjectFile(string Name, string Path, bool IsTest, IReadOnlyList<string> References, IReadOnlyList<string> Frameworks, IReadOnlyList<string> Packages);

    private static IReadOnlyList<ProjectFile> Projects()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SubsetMulticast.sln"))) dir = dir.Parent;
        Assert.True(dir is not null, "the repository root (SubsetMulticast.sln) above the test's directory");
        var files = new[] { "src", "emulator", "tests" }
            .Select(d => Path.Combine(dir!.FullName, d)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.csproj", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        return [.. files.Select(f =>
        {
            var xml = XDocument.Load(f);
            string[] Items(string kind) => [.. xml.Descendants(kind).Select(e => (string?)e.Attribute("Include") ?? "").Where(s => s.Length > 0)];
            return new ProjectFile(Path.GetFileNameWithoutExtension(f), f, f.Contains($"{Path.DirectorySeparatorChar}tests{Path.DirectorySeparatorChar}", StringComparison.Ordinal),
                [.. Items("ProjectReference").Select(r => Path.GetFileNameWithoutExtension(r.Replace('\\', '/')))], Items("FrameworkReference"), Items("PackageReference"));
        })];
    }

    private static IEnumerable<ProjectFile> Libraries() => Projects().Where(p => !p.IsTest && !Hosts.Contains(p.Name));

    [Fact]
    public void Libraries_TakeNoAspNetCoreFramework_AndOnlyExtensionsAbstractions()
    {
        var libraries = Libraries().ToList();
        Assert.Contains(libraries, p => p.Name == "SubsetMulticast.OpenFlow");
        foreach (var p in libraries)
        {
            Assert.True(p.Frameworks.Count == 0, $"{p.Name} references the framework(s) {string.Join(", ", p.Frameworks)}: a library takes Microsoft.Extensions.*.Abstractions packages only.");
            foreach (var package in p.Packages.Where(x => x.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal)))
                Assert.True(package.EndsWith(".Abstractions", StringComparison.Ordinal), $"{p.Name} references {package}: a library takes Microsoft.Extensions.*.Abstractions only.");
        }
    }

    [Fact]
    public void Libraries_DoNotReferenceTheHostsOrTheEmulator_AndTheEmulatorNotTheLearner()
    {
        foreach (var p in Libraries())
        {
            var up = p.References.Where(r => Hosts.Contains(r) || (r == "SubsetMulticast.Emulator" && p.Name != r)).ToList();
            Assert.True(up.Count == 0, $"{p.Name} references {string.Join(", ", up)}: dependencies point from the hosts down, never up.");
        }
        var emulator = Assert.Single(Projects(), p => p.Name == "SubsetMulticast.Emulator");
        Assert.DoesNotContain(emulator.References, NotForEmulator.Contains);
        var core = Assert.Single(Projects(), p => p.Name == "SubsetMulticast.Core");
        Assert.Empty(core.References);
        Assert.Empty(core.Packages);
    }

    [Fact]
    public void SnoopingStateMachine_KnowsNoCaptureIo()
    {
        // The snooper is a state machine over spans: files and live interfaces (SharpPcap) are the capture
        // project's, which references it, never the other way round; the hosts wire the two.
        var snooping = Assert.Single(Projects(), p => p.Name == "SubsetMulticast.Snooping");
        Assert.Equal(["SubsetMulticast.Core", "SubsetMulticast.Packets"], snooping.References.Order());
        Assert.Empty(snooping.Packages);
        var capture = Assert.Single(Projects(), p => p.Name == "SubsetMulticast.Capture");
        Assert.Contains("SubsetMulticast.Snooping", capture.References);
        Assert.Contains("SharpPcap", capture.Packages);
        var users = Libraries().Where(p => p.References.Contains("SubsetMulticast.Capture")).Select(p => p.Name).ToList();
        Assert.True(users.Count == 0, $"{string.Join(", ", users)} reference capture I/O: only the hosts (CLI, controller) wire it.");
    }

    [Fact]
    public void ProjectGraph_HasNoCycle()
    {
        var graph = Projects().ToDictionary(p => p.Name, p => p.References);
        var state = new Dictionary<string, int>(); // 1 visiting, 2 done
        void Visit(string name, List<string> path)
        {
            if (state.TryGetValue(name, out int s))
            {
                Assert.True(s == 2, $"cycle: {string.Join(" → ", path.Append(name))}");
                return;
            }
            state[name] = 1;
            foreach (var r in graph.GetValueOrDefault(name) ?? []) Visit(r, [.. path, name]);
            state[name] = 2;
        }
        foreach (var name in graph.Keys) Visit(name, []);
        Assert.True(graph.Count >= 10, $"found only {graph.Count} projects");
    }
}
