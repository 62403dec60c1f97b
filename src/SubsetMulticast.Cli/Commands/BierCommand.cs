using System.CommandLine;
using System.Globalization;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Text;
using SubsetMulticast.Cli.CommandLine;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm bier encode --bsl 256 --ids 27,235,497 [--json]</c>: BFR-ids → one BitString per SI (RFC 8279 §3).
/// <c>tsm bier decode HEX [--json]</c>: an RFC 8296 header with its BitString, field by field.
/// The work is <see cref="BierText"/>'s; this file only declares the options.
/// </summary>
internal static class BierCommand
{
    public static Command Create()
    {
        var command = new Command("bier", "BIER (RFC 8279/8296): BFR-ids to BitStrings, and headers decoded.") { Encode(), Decode() };
        return command;
    }

    private static Command Encode()
    {
        var bsl = OptionKinds.Parsed<BitStringLength>("--bsl", "BitString length in bits: 64, 128, 256, 512, 1024, 2048 or 4096 (default 256).", "BITS",
            text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int bits) && BierText.TryParseBsl(bits, out var b) ? b : null,
            "must be 64, 128, 256, 512, 1024, 2048 or 4096");
        bsl.DefaultValueFactory = _ => BitStringLength.Bits256;
        var ids = OptionKinds.Parsed<int[]>("--ids", "BFR-ids (1..65535), comma-separated.", "ID,ID,…", text => BierText.ParseIds(text),
            "must be BFR-ids 1..65535 separated by commas");
        ids.Required = true;
        var json = OptionKinds.Flag("--json", "One JSON object: {\"bsl\":…,\"sets\":[{\"si\":…,\"bits\":[…],\"hex\":\"…\"}]}.");
        var command = new Command("encode", "BFR-ids → one BitString per set identifier (bits are positions within the set; hex is the wire BitString).") { bsl, ids, json };
        command.SetAction(r =>
        {
            var length = r.GetValue(bsl);
            var sets = BfrIds.Encode(length, r.GetValue(ids)!);
            r.InvocationConfiguration.Output.Write(r.GetValue(json) ? BierText.EncodeJson(length, sets) + "\n" : BierText.EncodeText(length, sets));
            return 0;
        });
        return command;
    }

    private static Command Decode()
    {
        var hex = new Argument<string>("HEX") { Description = "The RFC 8296 header (and any payload after it) in hex; spaces and colons are ignored." };
        var json = OptionKinds.Flag("--json", "One JSON object with every field.");
        var command = new Command("decode", "An RFC 8296 BIER header, field by field, with its BitString's bits.") { hex, json };
        command.SetAction(r =>
        {
            byte[] bytes;
            try
            {
                bytes = BierText.ParseHex(r.GetValue(hex)!);
            }
            catch (FormatException e)
            {
                throw new UsageException($"HEX: {e.Message}");
            }
            try
            {
                r.InvocationConfiguration.Output.Write(r.GetValue(json) ? BierText.DecodeJson(bytes) + "\n" : BierText.DecodeText(bytes));
                return 0;
            }
            catch (BierFormatException e)
            {
                // Bytes that are not a BIER header: a data error (exit 1), not a usage error.
                r.InvocationConfiguration.Error.WriteLine($"tsm bier decode: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
