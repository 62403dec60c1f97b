#!/usr/bin/env bash
# Fuzzes the parsers with AFL++ driving SharpFuzz-instrumented assemblies (issue 13, part 5).
#
#   fuzz/run.sh [TARGET|"TARGET TARGET…"|all] [SECONDS]     # default: all, 1800 s per target
#
# Builds fuzz/SubsetMulticast.Fuzz, instruments our assemblies with the sharpfuzz tool (fuzz/dotnet-tools.json),
# runs afl-fuzz on each target for SECONDS from the committed seed corpus fuzz/corpus/TARGET, replays every crash
# and hang it saved through the uninstrumented harness, and appends one row per target to fuzz/results/campaign.md.
# Findings stay in fuzz/out/ (ignored by git). Not part of CI: tests/…/CorpusReplayTests replays the corpus there.
#
# Environment: FUZZ_JOBS (targets at once, default 1), FUZZ_NICE (default 19: only idle cycles on a shared
# machine), FUZZ_TIMEOUT_MS (per input, default 5000), FUZZ_RESULTS (default fuzz/results/campaign.md),
# FUZZ_MERGE=1 (copy what AFL kept, ≤ 4 KiB a file, into fuzz/corpus/TARGET as afl-<sha1> for the replay test).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)

target=${1:-all}
seconds=${2:-1800}
jobs=${FUZZ_JOBS:-1}
nice_level=${FUZZ_NICE:-19}
timeout_ms=${FUZZ_TIMEOUT_MS:-5000}
results=${FUZZ_RESULTS:-$here/results/campaign.md}
out=$here/out
bin=$out/bin

if ! command -v afl-fuzz >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else
    echo "run.sh: afl-fuzz not found: install the Debian package afl++" >&2; exit 1
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "run.sh: building and instrumenting"
dotnet tool restore >/dev/null
rm -rf "$bin"
dotnet publish SubsetMulticast.Fuzz/SubsetMulticast.Fuzz.csproj -c Release -o "$bin" -nologo -v q -clp:ErrorsOnly >/dev/null
# Replays of what AFL saved run uninstrumented: instrumented code writes AFL's bitmap, which exists only under afl-fuzz.
rm -rf "$out/replay"
cp -r "$bin" "$out/replay"
# Instrument the code under test only: not the harness, not SharpFuzz, not the framework.
for dll in "$bin"/SubsetMulticast.*.dll; do
  case "$(basename "$dll")" in SubsetMulticast.Fuzz.dll) continue ;; esac
  dotnet sharpfuzz "$dll" >/dev/null
done

if [ "$target" = all ]; then
  mapfile -t targets < <(dotnet "$bin/SubsetMulticast.Fuzz.dll" list | awk '{print $1}')
else
  read -ra targets <<<"$target"
fi

# AFL++ and a managed target: the binary is `dotnet`, so skip AFL's instrumentation check; crashes are .NET
# exceptions reported by SharpFuzz, not core dumps; 2 shared cores, so no CPU binding and no UI.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1

afl_stat() { sed -n "s/^$1 *: *//p" "$2" | head -1; }

fuzz_one() {
  local t=$1 dir=$out/findings/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  local started=$(date -u +%FT%TZ) load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  nice -n "$nice_level" afl-fuzz -i "corpus/$t" -o "$dir" -t "$timeout_ms" -V "$seconds" \
    -- dotnet "$bin/SubsetMulticast.Fuzz.dll" run "$t" >"$dir/afl.log" 2>&1 || true
  local s=$dir/default/fuzzer_stats
  if [ ! -f "$s" ]; then
    echo "run.sh: $t: afl-fuzz did not start; see $dir/afl.log" >&2
    echo "| $started | $t | 0 | 0 | 0 | - | - | - | - | - | afl-fuzz did not start |" >>"$results"
    return
  fi
  local execs=$(afl_stat execs_done "$s") eps=$(afl_stat execs_per_sec "$s") edges=$(afl_stat edges_found "$s") total=$(afl_stat total_edges "$s")
  local paths=$(afl_stat corpus_count "$s") crashes=$(afl_stat saved_crashes "$s") hangs=$(afl_stat saved_hangs "$s")
  local stability=$(afl_stat stability "$s") start=$(afl_stat start_time "$s") last=$(afl_stat last_update "$s")
  local ran=$((last - start))
  # Replay what AFL saved through the uninstrumented harness: a crash must reproduce to count, and a hang
  # that finishes in a blink was the shared machine pausing the fuzzer, not the parser looping.
  local reproduced=0 confirmed_hangs=0 f
  for f in "$dir"/default/crashes/id:*; do
    [ -f "$f" ] || continue
    dotnet "$out/replay/SubsetMulticast.Fuzz.dll" replay "$t" "$f" >>"$dir/replay.log" 2>&1 || reproduced=$((reproduced + 1))
  done
  for f in "$dir"/default/hangs/id:*; do
    [ -f "$f" ] || continue
    timeout 10 dotnet "$out/replay/SubsetMulticast.Fuzz.dll" replay "$t" "$f" >>"$dir/replay.log" 2>&1 || confirmed_hangs=$((confirmed_hangs + 1))
  done
  local per_s=$(awk -v e="$execs" -v r="$ran" 'BEGIN { printf "%.0f", (r > 0 ? e / r : 0) }')
  echo "| $started | $t | $ran | $execs | $per_s (AFL: $eps) | $edges / $total | $paths | $crashes ($reproduced reproduce) | $hangs ($confirmed_hangs confirmed) | $stability | load $load_before |" >>"$results"
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    for f in "$dir"/default/queue/id:*; do
      case "$f" in *orig:*) continue ;; esac
      local keep="corpus/$t/afl-$(sha1sum "$f" | cut -c1-12)"
      if [ "$(wc -c <"$f")" -le 4096 ] && [ ! -e "$keep" ]; then cp "$f" "$keep"; fi
    done
  fi
  echo "run.sh: $t: ${ran}s, $execs execs, $edges edges, $crashes crashes ($reproduced reproduce), $hangs hangs ($confirmed_hangs confirmed)"
}

mkdir -p "$(dirname "$results")"
if [ ! -s "$results" ]; then
  cat >"$results" <<'EOF'
# Fuzzing campaign (issue 13, part 5)

One row per target run by `fuzz/run.sh`. Columns: start (UTC); target; seconds fuzzed; executions; executions per
second over the run (and AFL's last reading); coverage as edges found / edges in the instrumented map; corpus
entries (paths); crashes saved (and how many reproduce on replay); hangs saved (and how many still hang for
10 s on replay); AFL stability; the 1/5/15-minute load when the target started.

EOF
fi
{
  echo
  echo "## $(date -u '+%F %H:%M UTC') — \`fuzz/run.sh $target $seconds\` (FUZZ_JOBS=$jobs, nice $nice_level, -t $timeout_ms ms)"
  echo
  echo "Machine: $(nproc)-core $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), afl++ $(dpkg-query -W -f='${Version}' afl++ 2>/dev/null || echo '?'), SharpFuzz 2.3.0, .NET $(dotnet --version); uptime: $(uptime | sed 's/.*load/load/')"
  echo
  echo "| start | target | s | execs | exec/s | edges | paths | crashes | hangs | stability | load |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >>"$results"

pids=()
for t in "${targets[@]}"; do
  [ -d "corpus/$t" ] || { echo "run.sh: no corpus for target '$t'" >&2; exit 2; }
  fuzz_one "$t" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait
echo "run.sh: results in $results"
