#!/usr/bin/env bash
# Re-prediction of 100,000 items after a promotion with 2 and with 4 workers (one process each), in one run:
# items/s for each and the scaling factor. Each worker count gets a fresh scratch database.
set -euo pipefail
cd "$(dirname "$0")/.."
CONTENT=${TAGLOOP_BENCH_CONTENT:-100000}
declare -A rate
for workers in 2 4; do
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS tagloop_rollout_bench" >/dev/null
  createdb -h 127.0.0.1 -U postgres tagloop_rollout_bench
  out=$(TAGLOOP_BENCH_WORKERS=$workers bash scripts/bench_rollout.sh --content "$CONTENT" --retrains 1 --yes 2>/dev/null)
  echo "$out" | sed "s/^/[$workers workers] /"
  rate[$workers]=$(echo "$out" | sed -n '/^re-predict after promotion/s/.*= \([0-9,]*\) items\/s.*/\1/p' | tr -d ,)
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
python3 -c "print(f'scaling 2 -> 4 workers: {${rate[4]} / ${rate[2]}:.2f}x ({${rate[2]}:,} -> {${rate[4]}:,} items/s)')"
