#!/bin/bash
# Issue 14's load runs, in the order recorded in results/control-plane-load.md. Run from the repository root on a
# quiet machine: ./tests/SubsetMulticast.Benchmarks/load/runs-issue14.sh [tsm command, default ./tsm]
#
# Side by side: TSM_BEFORE="dotnet /path/to/old/tsm.dll" runs the two throughput runs with the old build and this one
# alternately (old, new, old, new), same command, so that both see the same machine. To make the old build:
#   git worktree add /tmp/tsm-old <commit> && dotnet build /tmp/tsm-old/src/SubsetMulticast.Cli -c Release -o /tmp/tsm-old/out
#
# DOTNET_TieredCompilation=0: every method is compiled once, fully optimised, before the window. With tiering on, a
# starved machine was still re-compiling 900-2,500 methods inside a 20-s window (15 % of the process's CPU in perf),
# which moved the figures by more than the changes being measured. Set TSM_TIERED=1 to measure with tiering.
[ "${TSM_TIERED:-0}" = 1 ] || export DOTNET_TieredCompilation=0
H="${1:-./tsm} load"
run() { echo "### $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: $*"; timeout 1200 $H "$@" 2>&1 | grep -v "^  [0-9,]* live groups$"; echo "exit ${PIPESTATUS[0]} load $(cut -d' ' -f1-3 /proc/loadavg)"; }
if [ -n "${TSM_BEFORE:-}" ]; then
  for args in "--path coordinator --clients 32 --seconds 60" "--path rest2 --clients 32 --seconds 60"; do
    for i in 1 2; do
      echo "### BEFORE ($TSM_BEFORE) $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: $args"; timeout 1200 $TSM_BEFORE load $args 2>&1 | grep -E "cycles|setup  |CPU|alloc|tables"
      echo "### AFTER ($H) $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: $args"; timeout 1200 $H $args 2>&1 | grep -E "cycles|setup  |CPU|alloc|tables"
    done
  done
  exit 0
fi
run --path coordinator --clients 32 --seconds 60
run --path coordinator --clients 128 --seconds 60
run --path rest --clients 32 --seconds 60
run --path rest2 --clients 32 --seconds 60
run --path coordinator --clients 32 --seconds 30 --refuse-one-in 50
run --path coordinator --clients 32 --seconds 20 --live 2000 --refuse-one-in 50
run --path coordinator --clients 32 --seconds 30 --setup optimistic
run --switches emulator --clients 32 --seconds 30
run --fabric leaf-spine:8:992:1 --clients 32 --seconds 20
run --switches emulator --live 1000000 --clients 16 --seconds 10 --warmup 1
run --switches emulator --ipv6 --live 1000000 --clients 16 --seconds 10 --warmup 1
# Three Open vSwitch bridges (userspace datapath), through the OpenFlow southbound; needs openvswitch-switch and root:
echo "### $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: OVS 3 bridges, 32 clients, 60 s"
TSM_OVS_LOAD_SECONDS=60 TSM_OVS_LOAD_CLIENTS=32 dotnet test tests/SubsetMulticast.OpenFlow.Tests -c Release \
    --filter FullyQualifiedName~OvsThroughputTests --logger "console;verbosity=detailed" 2>&1 | grep -E "OVS 3 bridges|Passed|Failed"
