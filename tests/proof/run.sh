#!/usr/bin/env bash
# The side-by-side proof (issue 9), one command: installs the peers from Debian, builds the controller and the
# harness, builds one namespace testbed (Open vSwitch userspace datapath: spine + 2 leaves, sender + 12 receivers,
# tc tbf on every host link) and measures setup, teardown and puts of ours against the IGMP path on OVS and the
# Linux bridge, TCP fan-out and UFTP. Writes tests/SubsetMulticast.Benchmarks/results/proof.md.
# Needs root (network namespaces, OVS, nftables). Extra arguments go to the harness (e.g. --smoke, --trials 300).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then echo "run.sh: needs root (network namespaces, Open vSwitch, nftables)" >&2; exit 1; fi
PEERS=(openvswitch-switch uftp nftables iproute2 ethtool tcpdump)
missing=()
for p in "${PEERS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# --no-build: rerun what is built (a no-op build still costs minutes on the shared 2-core VM).
args=()
build=1
for a in "$@"; do if [ "$a" = --no-build ]; then build=0; else args+=("$a"); fi; done
set -- "${args[@]}"
[ $build = 1 ] && dotnet build tests/SubsetMulticast.Proof/SubsetMulticast.Proof.csproj -c Release -nologo -v q -clp:ErrorsOnly
out=tests/SubsetMulticast.Benchmarks/results/proof.md
# --latency: the latency proof of issue 14 only (setup hop by hop, 1,000 releases), into its own results file.
# --latency-quick: its verdict per mode in ≈ 4 min (one controller, 200 trials per mode in turns, 50 releases), into latency-quick.md.
for a in "$@"; do
  [ "$a" = --latency ] && out=tests/SubsetMulticast.Benchmarks/results/latency.md
  [ "$a" = --latency-quick ] && out=tests/SubsetMulticast.Benchmarks/results/latency-quick.md
done
exec dotnet tests/SubsetMulticast.Proof/bin/Release/net10.0/SubsetMulticast.Proof.dll --out "$out" --command "tests/proof/run.sh $*" "$@"
