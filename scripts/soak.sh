#!/usr/bin/env bash
# The suite under load: RUNS full runs in a row, each in its own random order, while BUSY processes spin on the
# cores. A test that fails here fails for a reason other than the code (a timeout too tight, a shared server,
# a port): that is the bug. Stops at the first failing run and prints its seed, to replay it alone.
#   bash scripts/soak.sh              # 10 runs, 2 busy loops: about an hour on two cores
#   RUNS=3 BUSY=1 bash scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10}
busy=${BUSY:-2}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for _ in $(seq "$busy"); do
    sh -c 'while :; do :; done' &
    pids+=($!)
done
echo "soak: $runs runs, $busy busy loops, tree $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes'), $(date -u '+%Y-%m-%d %H:%M UTC')"
for run in $(seq "$runs"); do
    seed=$(.venv/bin/python -c 'import random; print(random.getrandbits(32))')
    started=$(date +%s)
    if .venv/bin/python -m pytest -q -p no:cacheprovider --randomly-seed="$seed" >"soak-$run.log" 2>&1; then
        echo "run $run of $runs: passed in $(($(date +%s) - started)) s, --randomly-seed=$seed ($(tail -1 "soak-$run.log"))"
        rm -f "soak-$run.log"
    else
        echo "run $run of $runs: FAILED after $(($(date +%s) - started)) s, --randomly-seed=$seed; its output is in soak-$run.log"
        grep -E '^(FAILED|ERROR)' "soak-$run.log" || tail -20 "soak-$run.log"
        exit 1
    fi
done
echo "soak: all $runs runs passed (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
