#!/usr/bin/env bash
# The controller's own hops of a create without switches (issue 14): tsm serve on the in-process emulator fabric,
# N keep-alive creates + releases per round over HTTP/1.1, p50 of each Server-Timing hop over the last two thirds
# of a round. Rounds show how long the JIT takes to settle. Extra arguments are environment settings for tsm
# (e.g. DOTNET_TieredPGO=1 to compare). Usage: tests/proof/create-hops.sh [N=1500] [ROUNDS=3] [VAR=VALUE...]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1500}; rounds=${2:-3}; shift $(( $# < 2 ? $# : 2 ))
dll=${TSM_DLL:-src/SubsetMulticast.Cli/bin/Release/net10.0/tsm.dll} # TSM_DLL: another build to compare
[ -f "$dll" ] || dotnet build src/SubsetMulticast.Cli/SubsetMulticast.Cli.csproj -c Release -nologo -v q -clp:ErrorsOnly
out=$(mktemp)
env "$@" dotnet "$dll" serve --fabric leaf-spine:2:2:4 --api http://127.0.0.1:0 --push-udp off --quiet >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 150); do grep -q "Ctrl-C" "$out" && break; sleep 0.2; done
port=$(grep -o "api .*" "$out" | grep -o "127.0.0.1:[0-9]*" | head -1 | cut -d: -f2)
echo "$(date -u '+%Y-%m-%d %H:%M UTC') load $(cut -d' ' -f1-3 /proc/loadavg) env: ${*:-none}"
for r in $(seq "$rounds"); do echo "round $r: $(python3 tests/proof/create-hops.py 127.0.0.1 "$port" "$n")"; done
