#!/usr/bin/env bash
# Load harness: REST → confirmed rendezvous-group setup through SNMP on real kernel bridges.
# Two snooping Linux bridges, each behind its own snmpd (v2c / v3 SHA-512+AES-256) and a `tsm bridge-agent`;
# three hosts in namespaces join 239.1.0.1 with real IGMP; `tsm serve --snmp` runs the fabric. Then N times:
# POST /api/v1/groups (2 members, one per bridge) and DELETE it. Prints the controller's setupMicros (request in →
# every switch's SET acknowledged AND read back) and the client's wall time per POST, median and p90.
# Root only; everything it creates carries a random suffix and is removed on exit. Usage: snmp-kernel.sh [N]
set -euo pipefail
N=${1:-50}
root="$(cd "$(dirname "$0")/../.." && pwd)"
tag=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
dir=$(mktemp -d /tmp/tsm-snmpbench-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for l in tlab$tag tph1$tag tph2$tag tph3$tag; do ip link del "$l" 2>/dev/null || true; done
  for b in tba$tag tbb$tag; do ip link del "$b" 2>/dev/null || true; done
  for h in h1 h2 h3; do ip netns del tn$h$tag 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
"$root/tsm" --help >/dev/null   # build first
tsm="dotnet $root/.tsm/bin/tsm.dll"

ip link add tba$tag type bridge mcast_snooping 1 mcast_querier 1 mcast_igmp_version 3
ip addr add 10.79.0.254/24 dev tba$tag
ip link add tbb$tag type bridge mcast_snooping 1 mcast_igmp_version 3
ip link set tba$tag up; ip link set tbb$tag up
ip link add tlab$tag type veth peer name tlbb$tag
ip link set tlab$tag master tba$tag; ip link set tlbb$tag master tbb$tag; ip link set tlab$tag up; ip link set tlbb$tag up
host() { # name bridge ip
  ip netns add tn$1$tag; ip link add tp$1$tag type veth peer name ti$1$tag
  ip link set ti$1$tag netns tn$1$tag
  ip netns exec tn$1$tag ip link set ti$1$tag name eth0
  ip netns exec tn$1$tag ip addr add $3/24 dev eth0; ip netns exec tn$1$tag ip link set eth0 up
  ip link set tp$1$tag master $2; ip link set tp$1$tag up
}
host h1 tba$tag 10.79.0.1; host h2 tba$tag 10.79.0.2; host h3 tbb$tag 10.79.0.3

port() { python3 -c "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_$1);s.bind(('127.0.0.1',0));print(s.getsockname()[1])"; }
for s in a b; do
  up=$(port DGRAM); ax=$(port STREAM); mkdir -p $dir/$s
  cat > $dir/$s/snmpd.conf <<CONF
agentAddress udp:127.0.0.1:$up
rwcommunity private 127.0.0.1
createUser u512 SHA-512 "authpass512" AES-256 "privpass512"
rwuser u512 priv
master agentx
agentXSocket tcp:127.0.0.1:$ax
CONF
  SNMP_PERSISTENT_DIR=$dir/$s snmpd -f -Lf $dir/$s/log -C -c $dir/$s/snmpd.conf -p $dir/$s/pid & pids+=($!)
  eval "udp_$s=$up ax_$s=$ax"
done
sleep 1
$tsm bridge-agent --bridge tba$tag --agentx tcp:127.0.0.1:$ax_a > $dir/agent-a.log 2>&1 & pids+=($!)
$tsm bridge-agent --bridge tbb$tag --agentx tcp:127.0.0.1:$ax_b > $dir/agent-b.log 2>&1 & pids+=($!)
for h in h1 h2 h3; do
  ip netns exec tn$h$tag python3 -c "import socket,struct,time;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.setsockopt(socket.IPPROTO_IP,socket.IP_ADD_MEMBERSHIP,struct.pack('4s4s',socket.inet_aton('239.1.0.1'),socket.inet_aton('10.79.0.${h#h}')));time.sleep(3600)" & pids+=($!)
done
mac() { ip netns exec tn$1$tag cat /sys/class/net/eth0/address; }
pno() { printf '%d' "$(cat /sys/class/net/$1/brif/$2/port_no)"; }
export TSM_BENCH_AUTH=authpass512 TSM_BENCH_PRIV=privpass512 TSM_BENCH_COMMUNITY=private
cat > $dir/switches.txt <<FILE
switch A 127.0.0.1:$udp_a v3 user=u512 auth=SHA-512 auth-key=env:TSM_BENCH_AUTH priv=AES-256 priv-key=env:TSM_BENCH_PRIV
switch B 127.0.0.1:$udp_b v2c community=env:TSM_BENCH_COMMUNITY
link A:$(pno tba$tag tlab$tag) B:$(pno tbb$tag tlbb$tag)
host 10.79.0.1 $(mac h1)
host 10.79.0.2 $(mac h2)
host 10.79.0.3 $(mac h3)
reference 239.1.0.1
vlan 0
poll 1
FILE
api=$(port STREAM)
$tsm serve --snmp $dir/switches.txt --api http://127.0.0.1:$api --quiet > $dir/serve.log 2>&1 & pids+=($!)
for i in $(seq 1 150); do
  code=$(curl -s -o $dir/first.json -w '%{http_code}' -XPOST localhost:$api/api/v1/groups -H 'content-type: application/json' \
    -d '{"vlan":0,"reference":"239.1.0.1","members":["10.79.0.2","10.79.0.3"],"ttlMs":60000}' || true)
  [ "$code" = 201 ] || [ "$code" = 200 ] && break; sleep 0.2
done
[ "$code" = 201 ] || [ "$code" = 200 ] || { echo "serve never accepted a group ($code):"; cat $dir/serve.log $dir/first.json; exit 1; }
id=$(python3 -c "import json;print(json.load(open('$dir/first.json'))['id'])"); curl -s -XDELETE localhost:$api/api/v1/groups/$id >/dev/null
: > $dir/times
for i in $(seq 1 "$N"); do
  curl -s -o $dir/g.json -w '%{time_total}\n' -XPOST localhost:$api/api/v1/groups -H 'content-type: application/json' \
    -d '{"vlan":0,"reference":"239.1.0.1","members":["10.79.0.2","10.79.0.3"],"ttlMs":60000}' >> $dir/wall
  python3 -c "import json;g=json.load(open('$dir/g.json'));print(g['setupMicros'], g['id'])" >> $dir/times
  curl -s -XDELETE localhost:$api/api/v1/groups/$(tail -1 $dir/times | cut -d' ' -f2) >/dev/null
done
python3 - "$dir/times" "$dir/wall" <<'PY'
import sys, statistics
setup = sorted(int(l.split()[0]) for l in open(sys.argv[1]))
wall = sorted(float(l) * 1e6 for l in open(sys.argv[2]))
def q(v, p): return v[min(len(v) - 1, int(p * len(v)))]
print(f"groups: {len(setup)}  setupMicros median {statistics.median(setup):.0f} µs, p90 {q(setup, .9):.0f} µs, min {setup[0]} µs, max {setup[-1]} µs")
print(f"client POST wall time median {statistics.median(wall):.0f} µs, p90 {q(wall, .9):.0f} µs")
print(f"≈ {1e6 / statistics.median(setup):.0f} confirmed group setups/s, one at a time (2 switches, SET + read-back each)")
PY
