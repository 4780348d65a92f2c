#!/usr/bin/env bash
# The whole `kubectl ml-audit scan` on generated GitOps repositories of growing
# size: wall time, objects/s, MB/s and peak memory, all built-in analyses on,
# then the wall time and resident memory of each phase.
#   benches/scale.sh [SIZES...]      default: 10000 100000
# Repositories are generated once into ${TMPDIR:-/tmp}/ml-audit-scale-N
# (1,000,000 objects take 2.2 GB of disk: TMPDIR=/dev/shm keeps them in memory).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-10000 100000}")
cargo build --release -q -p kubectl-ml-audit
bin="${CARGO_TARGET_DIR:-target}/release/kubectl-ml_audit"
phases=()
printf "%10s %8s %9s %10s %8s %9s\n" objects MB wall_s objects/s MB/s peak_MB
for n in ${sizes[@]}; do
  dir="${TMPDIR:-/tmp}/ml-audit-scale-$n"
  [ -d "$dir" ] || python3 benches/gen_corpus.py --objects "$n" --out "$dir" >/dev/null
  mb=$(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \) -printf '%s\n' | awk '{s+=$1} END {print s/1e6}')
  # The report goes to /dev/null: at 1M objects it is over 2 GB.
  stats=$(ML_AUDIT_STATS=1 "$bin" "$dir" --format json 2>&1 >/dev/null | grep ml-audit- || true)
  objects=$(sed -nE 's/.*objects=([0-9]+).*/\1/p' <<<"$stats")
  wall_ms=$(sed -nE 's/.*wall_ms=([0-9]+).*/\1/p' <<<"$stats")
  peak_kb=$(sed -nE 's/.*peak_rss_kb=([0-9]+).*/\1/p' <<<"$stats")
  phases+=("$n: $(grep phases <<<"$stats" | sed 's/ml-audit-phases: //')")
  python3 - "$objects" "$mb" "$wall_ms" "$peak_kb" <<'PY'
import sys
o, mb, ms, kb = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = ms / 1000
print(f"{o:10d} {mb:8.1f} {s:9.2f} {o/s:10.0f} {mb/s:8.1f} {kb/1024:9.0f}")
PY
done
printf '%s\n' "${phases[@]}"
