#!/usr/bin/env bash
# Builds and runs every test. Installs the real peers the tests talk to (Debian packages) when
# they are missing; tests that need a peer fail with a message naming the package if it is absent.
set -euo pipefail
cd "$(dirname "$0")"

PEERS=(tshark tcpdump libpcap0.8 iproute2 bridge-utils ethtool openvswitch-switch snmpd snmp chromium nftables prometheus python3 uftp openvswitch-common openssl etcd-server etcd-client)
missing=()
for p in "${PEERS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer before installing.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: not root, cannot install ${missing[*]}; tests needing them will fail and say so" >&2
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build SubsetMulticast.sln -c Release -nologo -v q -clp:ErrorsOnly
# TSM_TEST_RESULTS=DIR keeps the trx files (per-test durations) and each assembly's runner output (NAME.log) in DIR;
# tests/slowest-tests.py reads them.
results=${TSM_TEST_RESULTS:-$(mktemp -d)}
mkdir -p "$results"
# Test assemblies run TSM_TEST_JOBS at a time (3 by default), the longest first so the long pole starts at once: on
# 2 cores that takes the test phase from about 5 min (TSM_TEST_JOBS=1) to about 2 min. The timing-sensitive real-peer
# tests tolerate the contention: the hold-down control tries up to three labs, the etcd client's missed deadline is
# StoreUnavailable, and the kernel bridge comparison brackets each `bridge mdb` read with our state at both ends.
# They can share the machine: every OVS lab has its own switch namespace, and namespaces, bridges, veths, run
# directories, etcd and snmpd ports are per test (random tag, port 0). Each assembly's output goes to its own log,
# printed whole when the assembly fails, else its runner's summary line.
jobs=${TSM_TEST_JOBS:-3}
longest_first=(OpenFlow Emulator Controller Transfer Proof Snmp Snooping Dashboard Cluster Bier Packets Core Learning Push Fuzz)
mapfile -t projects < <(dotnet sln SubsetMulticast.sln list | tr '\\' / | grep '\.Tests\.csproj$')
ordered=()
for name in "${longest_first[@]}"; do
  for p in "${projects[@]}"; do if [ "$(basename "$p")" = "SubsetMulticast.$name.Tests.csproj" ]; then ordered+=("$p"); fi; done
done
for p in "${projects[@]}"; do if [[ " ${ordered[*]} " != *" $p "* ]]; then ordered+=("$p"); fi; done
status=0
run_one() {
  local p=$1 name; name=$(basename "$p" .csproj)
  local rc=0
  dotnet test "$p" -c Release --no-build -nologo -v q --logger "trx;LogFileName=$name.trx" --results-directory "$results" "${@:2}" \
    >"$results/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$results/$name.rc"
}
running=0
for p in "${ordered[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  run_one "$p" "$@" &
  running=$((running + 1))
done
wait || true
for p in "${ordered[@]}"; do
  name=$(basename "$p" .csproj)
  rc=$(cat "$results/$name.rc" 2>/dev/null || echo 1)
  if [ "$rc" != 0 ]; then
    status=$rc
    echo "=== $name: exit $rc"; cat "$results/$name.log"
  else
    grep -E '^(Passed!|Failed!)|No test matches' "$results/$name.log" | sed "s|^|$name: |" || echo "$name: (no summary line)"
  fi
done

# One closing line over all test assemblies, counted from each test result in the trx files (the trx Counters
# element has no count of skipped tests); a failed test's message and stack follow, since CI otherwise shows only
# the runner's "[FAIL]" line.
summary=$(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
counts = {"Passed": 0, "Failed": 0, "NotExecuted": 0}
failures = []
for f in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for r in ET.parse(f).getroot().iterfind(".//t:Results/t:UnitTestResult", ns):
        outcome = r.get("outcome")
        counts[outcome if outcome in counts else "Failed"] += 1
        if outcome in counts and outcome != "Failed":
            continue
        lines = [f"--- FAILED {r.get('testName')} ({r.get('duration')})"]
        for tag in ("Message", "StackTrace", "StdOut"):
            e = r.find(f".//t:{tag}", ns)
            if e is not None and e.text:
                lines.append(f"{tag}:\n{e.text.strip()[-6000:]}")
        failures.append("\n".join(lines))
for text in failures:
    print(text, file=sys.stderr)
print(counts["Passed"], counts["Failed"], counts["NotExecuted"])
PY
) || summary="0 1 0"
read -r passed failed skipped <<<"$summary"
[ -n "${TSM_TEST_RESULTS:-}" ] || rm -rf "$results"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ] && [ "$status" -eq 0 ]; then status=1; fi
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit $status
