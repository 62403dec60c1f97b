#!/bin/bash
# Issue 14's throughput must-shows in one command of about 5 minutes on a quiet machine (run from the repository root):
#   ./tests/SubsetMulticast.Benchmarks/load/quick-issue14.sh [tsm command, default ./tsm]
# 1. coordinator, 100 emulated OpenFlow switches over TCP, 32 clients, 60 s, table audit at the end (~75 s)
# 2. REST over h2c, same fabric, 32 clients, 60 s, table audit (~75 s)
# 3. 1,000 emulated OpenFlow switches: connect + learn time, then 10 s of cycling after 10 s of warm-up, and the audit
#    (~60-120 s; with a 2-s warm-up the clients met the minute after learning: 0 cycles, 2 members not yet in the group)
# 4. three Open vSwitch bridges, 32 clients, 30 s, ovs-ofctl audit and both sides' CPU (~60 s; needs root and
#    openvswitch-switch; skipped with TSM_OVS=0; builds the OpenFlow test project first if it is not built)
# Every figure line is prefixed with the time and the load average; results/control-plane-load.md says how to read them.
set -u
[ "${TSM_TIERED:-0}" = 1 ] || export DOTNET_TieredCompilation=0   # why: see runs-issue14.sh
H="${1:-./tsm} load"
run() {
  echo "### $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: $*"
  timeout 600 $H "$@" 2>&1 | grep -Ev "^warn|^  [0-9,]* live groups$"
  echo "exit ${PIPESTATUS[0]} load $(cut -d' ' -f1-3 /proc/loadavg)"
}
run --path coordinator --clients 32 --seconds 60 --warmup 10
run --path rest2 --clients 32 --seconds 60 --warmup 10
run --fabric leaf-spine:8:992:1 --clients 32 --seconds 10 --warmup 10
if [ "${TSM_OVS:-1}" != 0 ]; then
  echo "### $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: OVS 3 bridges, 32 clients, 30 s"
  [ -f tests/SubsetMulticast.OpenFlow.Tests/bin/Release/net10.0/SubsetMulticast.OpenFlow.Tests.dll ] ||
    dotnet build tests/SubsetMulticast.OpenFlow.Tests -c Release -nologo -v q -clp:ErrorsOnly
  TSM_OVS_LOAD_SECONDS=30 TSM_OVS_LOAD_CLIENTS=32 timeout 600 dotnet test tests/SubsetMulticast.OpenFlow.Tests -c Release --no-build \
      --filter FullyQualifiedName~OvsThroughputTests --logger "console;verbosity=detailed" 2>&1 | grep -E "OVS 3 bridges|Passed|Failed"
  echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
fi
