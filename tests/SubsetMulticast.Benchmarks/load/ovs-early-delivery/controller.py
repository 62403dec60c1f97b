# Connects to OVS (ptcp), per trial: FLOW_MOD ADD for 239.1.1.5 -> port 2 + BARRIER; records send / barrier-reply times; then DELETE_STRICT.
import socket, struct, time, sys, random
port = int(sys.argv[1]); trials = int(sys.argv[2]); out = open(sys.argv[3], "w")
s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
xid = 1
def send(t, body=b""):
    global xid; xid += 1
    s.sendall(struct.pack("!BBHI", 4, t, 8 + len(body), xid) + body); return xid
buf = b""
def recv_until(typ, want_xid=None):
    global buf
    while True:
        while len(buf) >= 8:
            v, t, ln, x = struct.unpack("!BBHI", buf[:8])
            if len(buf) < ln: break
            msg, buf = buf[:ln], buf[ln:]
            if t == 2: s.sendall(struct.pack("!BBHI", 4, 3, ln, x) + msg[8:])  # echo
            if t == 1: print("OF error", msg[8:12].hex(), file=sys.stderr)
            if t == typ and (want_xid is None or x == want_xid): return time.monotonic_ns()
        buf += s.recv(65536)
send(0); recv_until(0)
def oxm(field, val): return struct.pack("!HBB", 0x8000, field << 1, len(val)) + val
match_body = oxm(5, struct.pack("!H", 0x0800)) + oxm(12, socket.inet_aton("239.1.1.5"))
match = struct.pack("!HH", 1, 4 + len(match_body)) + match_body
match += b"\0" * ((8 - len(match) % 8) % 8)
def flow_mod(cmd, actions_port=None):
    instr = b""
    if actions_port is not None:
        act = struct.pack("!HHIH6x", 0, 16, actions_port, 0xffff)
        instr = struct.pack("!HH4x", 4, 8 + len(act)) + act
    body = struct.pack("!QQBBHHHIIIH2x", 0x1234, 0, 0, cmd, 0, 0, 1000, 0xffffffff, 0xffffffff, 0xffffffff, 0) + match + instr
    return body
for i in range(trials):
    time.sleep(0.04 + random.random() * 0.02)
    t0 = time.monotonic_ns()
    send(14, flow_mod(0, 2)); b = send(20)
    t1 = recv_until(21, b)
    time.sleep(0.04)
    send(14, flow_mod(4)); b = send(20); recv_until(21, b)
    out.write(f"{t0} {t1}\n"); out.flush()
