using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace SubsetMulticast.Snmp.Messages;

/// <summary>An OBJECT IDENTIFIER value: immutable arcs, ordered lexicographically as SNMP walks them (RFC 3416 §4.2.2).</summary>
public sealed class ObjectIdentifier : IEquatable<ObjectIdentifier>, IComparable<ObjectIdentifier>
{
    /// <summary>RFC 2578 §3.5: at most 128 sub-identifiers.</summary>
    public const int MaxArcs = 128;

    private readonly uint[] _arcs;

    public ObjectIdentifier(params uint[] arcs)
    {
        if (arcs.Length is < 2 or > MaxArcs) throw new ArgumentException("An OID has 2 to 128 arcs.", nameof(arcs));
        _arcs = arcs;
    }

    private ObjectIdentifier(uint[] arcs, bool _) => _arcs = arcs;

    internal static ObjectIdentifier Wrap(uint[] arcs) => new(arcs, true);

    public ReadOnlySpan<uint> Arcs => _arcs;
    public int Length => _arcs.Length;
    public uint this[int index] => _arcs[index];

    public static ObjectIdentifier Parse(string text) =>
        TryParse(text, out var oid) ? oid : throw new FormatException($"'{text}' is not a numeric OID (1.3.6.1…).");

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out ObjectIdentifier? oid)
    {
        oid = null;
        if (string.IsNullOrEmpty(text)) return false;
        var t = text.AsSpan();
        if (t[0] == '.') t = t[1..];
        var arcs = new List<uint>();
        foreach (var range in t.Split('.'))
        {
            if (!uint.TryParse(t[range], NumberStyles.None, CultureInfo.InvariantCulture, out uint a)) return false;
            arcs.Add(a);
        }
        if (arcs.Count is < 2 or > MaxArcs || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40)) return false;
        oid = new ObjectIdentifier([.. arcs], true);
        return true;
    }

    public ObjectIdentifier Append(params ReadOnlySpan<uint> more)
    {
        var a = new uint[_arcs.Length + more.Length];
        _arcs.CopyTo(a, 0);
        more.CopyTo(a.AsSpan(_arcs.Length));
        return new ObjectIdentifier(a, true);
    }

    public bool StartsWith(ObjectIdentifier prefix) => _arcs.AsSpan().StartsWith(prefix._arcs);

    /// <summary>The arcs after <paramref name="prefix"/> (the instance index of a table column).</summary>
    public ReadOnlySpan<uint> After(ObjectIdentifier prefix) => _arcs.AsSpan(prefix._arcs.Length);

    public int CompareTo(ObjectIdentifier? other)
    {
        if (other is null) return 1;
        return _arcs.AsSpan().SequenceCompareTo(other._arcs);
    }

    public bool Equals(ObjectIdentifier? other) => other is not null && _arcs.AsSpan().SequenceEqual(other._arcs);
    public override bool Equals(object? obj) => obj is ObjectIdentifier o && Equals(o);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var a in _arcs) h.Add(a);
        return h.ToHashCode();
    }

    public static bool operator ==(ObjectIdentifier? a, ObjectIdentifier? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(ObjectIdentifier? a, ObjectIdentifier? b) => !(a == b);
    public static bool operator <(ObjectIdentifier a, ObjectIdentifier b) => a.CompareTo(b) < 0;
    public static bool operator >(ObjectIdentifier a, ObjectIdentifier b) => a.CompareTo(b) > 0;
    public static bool operator <=(ObjectIdentifier a, ObjectIdentifier b) => a.CompareTo(b) <= 0;
    public static bool operator >=(ObjectIdentifier a, ObjectIdentifier b) => a.CompareTo(b) >= 0;

    /// <summary>Dotted form without a leading dot: 1.3.6.1.2.1.1.5.0.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(_arcs.Length * 3);
        for (int i = 0; i < _arcs.Length; i++)
        {
            if (i > 0) sb.Append('.');
            sb.Append(_arcs[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>The BER content octets (X.690 §8.19).</summary>
    public int EncodeContent(Span<byte> destination)
    {
        int n = 0;
        n += EncodeArc(_arcs[0] * 40UL + _arcs[1], destination[n..]);
        for (int i = 2; i < _arcs.Length; i++) n += EncodeArc(_arcs[i], destination[n..]);
        return n;
    }

    public int ContentLength
    {
        get
        {
            int n = ArcLength(_arcs[0] * 40UL + _arcs[1]);
            for (int i = 2; i < _arcs.Length; i++) n += ArcLength(_arcs[i]);
            return n;
        }
    }

    private static int ArcLength(ulong v)
    {
        int n = 1;
        while ((v >>= 7) != 0) n++;
        return n;
    }

    private static int EncodeArc(ulong v, Span<byte> d)
    {
        int n = ArcLength(v);
        for (int i = n - 1; i >= 0; i--)
        {
            d[i] = (byte)((v & 0x7F) | (i == n - 1 ? 0u : 0x80u));
            v >>= 7;
        }
        return n;
    }
}
