# The target: records every datagram to a block address it sees on its link (AF_PACKET, no join): arrival time, address, sequence, send time.
import socket, struct, time, sys
ifc = sys.argv[1]; out = open(sys.argv[2], "w"); dur = float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)); s.bind((ifc, 0)); s.settimeout(0.5)
end = time.monotonic() + dur
while time.monotonic() < end:
    try: b = s.recv(2048)
    except socket.timeout: continue
    t = time.monotonic_ns()
    if len(b) < 14 + 20 + 8 + 16 or b[14+9] != 17: continue
    dst = socket.inet_ntoa(b[14+16:14+20])
    seq, sent = struct.unpack("!QQ", b[42:58])
    out.write(f"{t} {dst} {seq} {sent}\n")
out.close()
