namespace SubsetMulticast.Packets;

internal static class Guard
{
    public static void Room(Span<byte> destination, int needed)
    {
        if (destination.Length < needed)
            throw new ArgumentException($"Destination holds {destination.Length} bytes; {needed} are needed.", nameof(destination));
    }
}
