#!/usr/bin/env bash
# Alternating runs of two builds of the binary on one input, for comparisons
# on a machine whose speed drifts: OLD, NEW, OLD, NEW, ... then the median of
# each `ML_AUDIT_STATS` figure (wall and CPU time per phase, peak memory).
#   benches/ab.sh OLD_BIN NEW_BIN DIR [PAIRS] [extra scan arguments...]
# e.g. benches/ab.sh /tmp/old-bin target/release/kubectl-ml_audit \
#        /tmp/ml-audit-scale-100000 6
set -euo pipefail
old=$1 new=$2 dir=$3 pairs=${4:-6}
shift $(( $# < 4 ? $# : 4 ))
for _ in $(seq "$pairs"); do
  for which in old new; do
    bin=${!which}
    echo "$which $(ML_AUDIT_STATS=1 "$bin" "$dir" --format json "$@" 2>&1 >/dev/null \
      | grep -E 'ml-audit-(phases|stats):' | tr '\n' ' ')"
  done
done | python3 -c '
import collections, re, statistics, sys
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in sys.stdin:
    which = line.split()[0]
    # "load_ms=... cpu_ms=... rss_mb=..." per phase: name the cpu and rss after it.
    phase = None
    for key, value in re.findall(r"(\w+)=(\d+)", line):
        if key.endswith("_ms") and key not in ("cpu_ms", "wall_ms"):
            phase = key[:-3]
        elif key in ("cpu_ms", "rss_mb") and phase:
            key = f"{phase}_{key}"
        runs[which][key].append(int(value))
for which in ("old", "new"):
    figures = runs[which]
    print(which, " ".join(f"{k}={statistics.median(v):.0f}" for k, v in figures.items()
                          if k != "objects" and k != "findings"))
    print(" ", "wall_ms runs:", " ".join(map(str, sorted(figures["wall_ms"]))))
'
