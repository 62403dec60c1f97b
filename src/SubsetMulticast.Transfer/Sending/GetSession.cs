namespace SubsetMulticast.Transfer.Sending;

/// <summary>A get in progress: datagrams from one server reassembled into the chunk. Guarded by its own lock.</summary>
internal sealed class GetSession(long size, int payload)
{
    private readonly bool[] _held = new bool[(int)((size + payload - 1) / payload)];
    public Lock Gate { get; } = new();
    public byte[] Buffer { get; } = new byte[size];
    public int Payload => payload;
    public int Count => _held.Length;
    public int Received { get; private set; }
    public int Arrivals { get; set; }
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Accept(uint index, ReadOnlySpan<byte> data)
    {
        lock (Gate)
        {
            Arrivals++;
            if (index >= (uint)_held.Length || _held[index]) return;
            int len = (int)Math.Min(payload, Buffer.Length - (long)index * payload);
            if (data.Length != len) return;
            data.CopyTo(Buffer.AsSpan((int)index * payload));
            _held[index] = true;
            if (++Received == _held.Length) Done.TrySetResult();
        }
    }

    public List<(uint Start, uint Count)> Missing(int max)
    {
        var list = new List<(uint, uint)>();
        lock (Gate)
        {
            for (int i = 0; i < _held.Length && list.Count < max;)
            {
                if (_held[i]) { i++; continue; }
                int start = i;
                while (i < _held.Length && !_held[i]) i++;
                list.Add(((uint)start, (uint)(i - start)));
            }
        }
        return list;
    }
}
