#!/bin/bash
H="./tsm load"   # run from the repository root
run() { echo "### $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) :: $*"; timeout 1200 $H "$@" 2>&1 | grep -v "^  [0-9,]* live groups$"; echo "exit ${PIPESTATUS[0]}"; }
run --switches emulator --live 1000000 --clients 16 --seconds 10 --warmup 1
run --fabric leaf-spine:8:992:1 --clients 8 --seconds 20 --warmup 2
run --path coordinator --clients 32 --seconds 60
run --path rest --clients 32 --seconds 60
