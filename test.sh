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
# TSM_TEST_RESULTS=DIR keeps the trx files (per-test durations) in DIR; tests/slowest-tests.py reads them.
results=${TSM_TEST_RESULTS:-$(mktemp -d)}
mkdir -p "$results"
status=0
dotnet test SubsetMulticast.sln -c Release --no-build -nologo -v q \
  --logger "trx" --results-directory "$results" "$@" || status=$?

# One closing line over all test assemblies: "N passed, N failed".
passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  c=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c"); passed=$((passed + ${p:-0}))
  x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c"); failed=$((failed + ${x:-0}))
  s=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$c"); skipped=$((skipped + ${s:-0}))
done
# A failed test's message and stack, from the trx files: CI shows only the runner's "[FAIL]" line otherwise.
if [ "$failed" -gt 0 ]; then
  python3 - "$results" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for f in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for r in ET.parse(f).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") != "Failed":
            continue
        print(f"--- FAILED {r.get('testName')} ({r.get('duration')})")
        for tag in ("Message", "StackTrace", "StdOut"):
            e = r.find(f".//t:{tag}", ns)
            if e is not None and e.text:
                text = e.text.strip()
                print(f"{tag}:\n{text[-6000:]}")
PY
fi
[ -n "${TSM_TEST_RESULTS:-}" ] || rm -rf "$results"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit $status
