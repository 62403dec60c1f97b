# The sender: a datagram to DST every GAP µs for DUR seconds, carrying its sequence number and send time (CLOCK_MONOTONIC).
import socket, struct, time, sys
dst = sys.argv[1]; dur = float(sys.argv[2]); gap = int(float(sys.argv[3]) * 1000)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
end = time.monotonic_ns() + int(dur * 1e9); seq = 0; nxt = time.monotonic_ns()
while True:
    now = time.monotonic_ns()
    if now >= end: break
    if now < nxt: continue
    s.sendto(struct.pack("!QQ", seq, now), (dst, 5000)); seq += 1; nxt = now + gap
