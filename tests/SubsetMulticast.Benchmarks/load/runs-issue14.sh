#!/bin/bash
# Issue 14's load runs, in the order recorded in results/control-plane-load.md. Run from the repository root on a
# quiet machine: ./tests/SubsetMulticast.Benchmarks/load/runs-issue14.sh [tsm command, default ./tsm]
H="${1:-./tsm} load"
run() { echo "### $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: $*"; timeout 1200 $H "$@" 2>&1 | grep -v "^  [0-9,]* live groups$"; echo "exit ${PIPESTATUS[0]} load $(cut -d' ' -f1-3 /proc/loadavg)"; }
run --path coordinator --clients 32 --seconds 60
run --path coordinator --clients 128 --seconds 60
run --path rest --clients 32 --seconds 60
run --path rest2 --clients 32 --seconds 60
run --path coordinator --clients 32 --seconds 30 --refuse-one-in 50
run --path coordinator --clients 32 --seconds 20 --live 2000 --refuse-one-in 50
run --path coordinator --clients 32 --seconds 30 --setup optimistic
run --fabric leaf-spine:8:992:1 --clients 32 --seconds 20
run --switches emulator --live 1000000 --clients 16 --seconds 10 --warmup 1
# Three Open vSwitch bridges (userspace datapath), through the OpenFlow southbound; needs openvswitch-switch and root:
echo "### $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: OVS 3 bridges, 32 clients, 60 s"
TSM_OVS_LOAD_SECONDS=60 TSM_OVS_LOAD_CLIENTS=32 dotnet test tests/SubsetMulticast.OpenFlow.Tests -c Release \
    --filter FullyQualifiedName~OvsThroughputTests --logger "console;verbosity=detailed" 2>&1 | grep -E "OVS 3 bridges|Passed|Failed"
