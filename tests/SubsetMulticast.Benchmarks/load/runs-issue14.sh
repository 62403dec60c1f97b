#!/bin/bash
H="./tsm load"   # run from the repository root
run() { echo "### $(date -u +%FT%TZ) load $(cat /proc/loadavg | cut -d' ' -f1-3) :: $*"; timeout 900 $H "$@" 2>&1 | grep -v "^  [0-9,]* live groups$"; echo "exit $?"; }
run --path coordinator --clients 32 --seconds 60
run --path rest --clients 32 --seconds 60
run --path rest2 --clients 32 --seconds 30
run --path coordinator --clients 32 --seconds 30 --setup optimistic
run --path coordinator --clients 32 --seconds 30 --refuse-one-in 50
run --path coordinator --clients 1 --seconds 20
run --switches emulator --path coordinator --clients 32 --seconds 30
