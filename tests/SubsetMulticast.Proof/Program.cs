using System.Runtime.CompilerServices;
using SubsetMulticast.Proof;

[assembly: InternalsVisibleTo("SubsetMulticast.Proof.Tests")]

try
{
    var options = ProofOptions.Parse(args);
    var result = await ProofRun.RunAsync(options, line => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}"));
    string md = options.Latency ? LatencyRun.Markdown(result) : ProofReport.Markdown(result);
    if (options.Output is { } path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, md);
        Console.WriteLine($"wrote {path}");
    }
    else Console.WriteLine(md);
    return 0;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or TimeoutException)
{
    Console.Error.WriteLine($"proof: {e.Message}");
    return 1;
}
