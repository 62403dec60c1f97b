using System.Globalization;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Load;

// Load harness for issue 14 (long runs live here, not in dotnet test):
//   dotnet run -c Release --project tests/SubsetMulticast.LoadHarness -- [--path coordinator|rest|rest2] [--switches openflow|emulator]
//     [--fabric leaf-spine:4:96:4] [--clients 32] [--seconds 60] [--warmup 3] [--setup confirmed|optimistic|persistent]
//     [--members 3] [--live N] [--refuse-one-in N] [--hold-down-ms N] [--cycles N]
// Exit status 0 only if the switches' tables matched the controller's live groups at the end (or were not checkable).
var o = new LoadOptions();
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
    o = args[i] switch
    {
        "--path" => o with { Path = Enum.Parse<LoadPath>(Next(), ignoreCase: true) },
        "--switches" => o with { Switches = Enum.Parse<LoadSwitches>(Next(), ignoreCase: true) },
        "--fabric" => o with { Fabric = Next() },
        "--clients" => o with { Clients = Int() },
        "--seconds" => o with { Duration = TimeSpan.FromSeconds(Int()) },
        "--warmup" => o with { Warmup = TimeSpan.FromSeconds(Int()) },
        "--setup" => o with { Setup = Enum.Parse<SetupMode>(Next(), ignoreCase: true) },
        "--members" => o with { Members = Int() },
        "--live" => o with { LiveGroups = Int() },
        "--refuse-one-in" => o with { RefuseOneIn = Int() },
        "--hold-down-ms" => o with { HoldDown = TimeSpan.FromMilliseconds(Int()) },
        "--cycles" => o with { MaxCycles = Int() },
        "--seed" => o with { Seed = Int() },
        _ => throw new ArgumentException($"unknown option {args[i]}"),
    };
}
var report = await LoadRunner.RunAsync(o, Console.Out);
Console.WriteLine(report.ToText());
return report.Tables.Checked && !report.Tables.Clean ? 1 : 0;
