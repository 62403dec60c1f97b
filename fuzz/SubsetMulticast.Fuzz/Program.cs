using SharpFuzz;
using SubsetMulticast.Fuzz;

// fuzz/run.sh drives this: `run TARGET` is the AFL++ persistent loop (the input comes from AFL through SharpFuzz's
// shared memory); `replay` and `seeds` are for people and for the corpus regression test.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: SubsetMulticast.Fuzz run TARGET | replay TARGET PATH… | seeds DIR | list");
    return args.Length == 0 ? 2 : 0;
}
switch (args[0])
{
    case "list":
        foreach (var t in FuzzTargets.All) Console.WriteLine($"{t.Name,-10} {t.Description}");
        return 0;
    case "run" when args.Length == 2 && FuzzTargets.Find(args[1]) is { } target:
        Fuzzer.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target.Execute(copy.GetBuffer().AsSpan(0, (int)copy.Length));
        });
        return 0;
    case "replay" when args.Length >= 3 && FuzzTargets.Find(args[1]) is { } target:
    {
        int failures = 0;
        foreach (var file in args.Skip(2).SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order() : (IEnumerable<string>)[p]))
        {
            try
            {
                target.Execute(File.ReadAllBytes(file));
                Console.WriteLine($"ok    {file}");
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"FAIL  {file}: {e}");
            }
        }
        return failures == 0 ? 0 : 1;
    }
    case "seeds" when args.Length == 2:
        foreach (var t in FuzzTargets.All)
        {
            var dir = Path.Combine(args[1], t.Name);
            Directory.CreateDirectory(dir);
            foreach (var (name, bytes) in t.Seeds()) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
        return 0;
    default:
        Console.Error.WriteLine($"SubsetMulticast.Fuzz: unknown command or target '{string.Join(' ', args)}' (targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))})");
        return 2;
}
