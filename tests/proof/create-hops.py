#!/usr/bin/env python3
# N keep-alive creates + releases against tsm serve (emulator fabric); prints the p50 of each Server-Timing hop
# over the last two thirds. Usage: create-hops.py HOST PORT N (see create-hops.sh).
import http.client, json, sys, statistics, re
host, port = sys.argv[1], int(sys.argv[2]); n = int(sys.argv[3])
c = http.client.HTTPConnection(host, port)
c.request("GET", "/api/v1/topology"); topo = json.loads(c.getresponse().read())
hosts = [h["ip"] for h in topo["hosts"] if "." in h["ip"]]
hops = {}
for i in range(n):
    members = [hosts[(i+k) % len(hosts)] for k in range(3)]
    body = json.dumps({"vlan": 1, "reference": "239.1.0.1", "members": members, "ttlMs": 60000, "setup": "confirmed"})
    c.request("POST", "/api/v1/groups", body, {"Content-Type": "application/json"})
    r = c.getresponse(); b = r.read()
    if r.status != 201: print(r.status, b[:100]); sys.exit(1)
    st = r.getheader("Server-Timing")
    gid = json.loads(b)["id"]
    c.request("DELETE", "/api/v1/groups/" + gid); c.getresponse().read()
    if i < n // 3: continue
    for m in re.finditer(r"(\w+);dur=([\d.]+)", st): hops.setdefault(m.group(1), []).append(float(m.group(2)))
print(" ".join(f"{k}={statistics.median(v)*1000:.0f}us" for k, v in hops.items()))
