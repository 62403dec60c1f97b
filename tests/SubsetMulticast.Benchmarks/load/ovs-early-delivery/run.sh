#!/usr/bin/env bash
# Optimistic setup on Open vSwitch: does a datagram that arrives BEFORE its group's rule (and so is handled by the
# low-priority rule for unregistered block addresses) hold up delivery once the rule is in? Two ways to handle it:
#   drop: the unregistered rule forwards to the router port (port 3 here): OVS caches a datapath flow for the address
#         and must revalidate it when the rule comes;
#   slow: the same rule plus controller(max_len=0): the datapath flow is slow-pathed, every packet is translated in
#         userspace against the current tables, so nothing stale is cached.
# Per trial: a sender probes 239.1.1.5 every 0.1 ms; controller.py adds the address's rule (FLOW_MOD + BARRIER over
# OpenFlow 1.3), waits for the barrier reply, later deletes it. Printed: first delivery to the target after the barrier
# reply, p10/p50/p90/max over TRIALS trials. Root; its own ovsdb/ovs-vswitchd under /tmp/ovs-early-MODE, namespaces
# xps/xpr/xpq, all removed at the end.  Usage: run.sh drop|slow [TRIALS]
set -u
mode=$1; trials=${2:-120}; here=$(cd "$(dirname "$0")" && pwd)
D=/tmp/ovs-early-$mode; rm -rf $D; mkdir -p $D
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D
ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --remote=punix:$D/db.sock --pidfile=$D/ovsdb.pid --detach --log-file=$D/ovsdb.log $D/conf.db
V="ovs-vsctl --db=unix:$D/db.sock"
$V --no-wait init
ovs-vswitchd unix:$D/db.sock --pidfile=$D/vswitchd.pid --detach --log-file=$D/vswitchd.log 2>/dev/null
$V add-br bx -- set bridge bx datapath_type=netdev protocols=OpenFlow13 fail_mode=secure
i=0
for n in s r q; do
  i=$((i + 1))
  ip netns del xp$n 2>/dev/null; ip netns add xp$n
  ip link add xv$n type veth peer name xh$n
  ip link set xh$n netns xp$n
  ip -n xp$n addr add 10.99.0.$i/24 dev xh$n
  ip -n xp$n link set xh$n up; ip -n xp$n link set lo up
  ip -n xp$n route add 224.0.0.0/4 dev xh$n
  ip link set xv$n up
  $V add-port bx xv$n -- set interface xv$n ofport_request=$i
done
F="ovs-ofctl -O OpenFlow13"
if [ "$mode" = drop ]; then $F add-flow bx "priority=500,ip,nw_dst=239.1.1.0/24,actions=output:3"
else $F add-flow bx "priority=500,ip,nw_dst=239.1.1.0/24,actions=output:3,controller(max_len=0)"; fi
$V set-controller bx ptcp:6699:127.0.0.1
dur=$(( trials / 10 + 6 ))
ip netns exec xpr python3 "$here/receiver.py" xhr $D/rx.txt $dur & rp=$!
sleep 0.5
ip netns exec xps python3 "$here/sender.py" 239.1.1.5 $((dur - 1)) 100 & sp=$!
sleep 0.5
timeout $((dur - 2)) python3 "$here/controller.py" 6699 $trials $D/trials.txt
wait $sp; wait $rp
kill "$(cat $D/vswitchd.pid)" "$(cat $D/ovsdb.pid)"
for n in s r q; do ip netns del xp$n; ip link del xv$n 2>/dev/null; done
python3 - $D "$mode" <<'PY'
import sys, statistics
D, mode = sys.argv[1], sys.argv[2]
rx = [l.split() for l in open(D + "/rx.txt")]
rx = [(int(a), int(s)) for a, d, q, s in rx if d == "239.1.1.5"]
lags, barriers = [], []
for l in open(D + "/trials.txt"):
    t0, t1 = map(int, l.split())
    first = min((a for a, s in rx if a > t0 and s > t0), default=None)
    if first is None: continue
    lags.append((first - t1) / 1e6); barriers.append((t1 - t0) / 1e6)
lags.sort(); n = len(lags)
print(f"{mode}: {n} trials; first delivery after the barrier reply, ms: p10 {lags[n // 10]:.3f} p50 {statistics.median(lags):.3f} "
      f"p90 {lags[n * 9 // 10]:.3f} max {lags[-1]:.3f}; FLOW_MOD -> barrier reply p50 {statistics.median(barriers):.3f}")
PY
