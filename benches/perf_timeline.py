#!/usr/bin/env python3
"""Where a scan's threads spend each slice of time, from `perf` samples:
shows the stretches where a core is idle and what the busy one runs.

    perf record -o /tmp/scan.perf -F 999 --call-graph dwarf,32768 \\
        target/release/kubectl-ml_audit DIR --format json >/dev/null
    perf script -i /tmp/scan.perf -F tid,time,ip,sym > /tmp/scan.txt
    benches/perf_timeline.py /tmp/scan.txt              # samples per 50 ms
    benches/perf_timeline.py /tmp/scan.txt 1.2 1.8 0.025  # per thread, 1.2-1.8 s

At 999 Hz a fully busy 2-core machine gives about 100 samples per 50 ms; a
slice with about 50 has one core idle. Each thread is shown by the innermost
ml_audit (or kubectl_ml_audit) frame of its samples.
"""
import collections
import re
import sys


def samples(path):
    out, cur, t0 = [], None, None
    for line in open(path, errors="replace"):
        m = re.match(r"\s*(\d+)\s+([\d.]+):", line)
        if m:
            t = float(m.group(2))
            t0 = t if t0 is None else t0
            cur = (t - t0, int(m.group(1)), [])
            out.append(cur)
            continue
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and cur is not None:
            sym = re.sub(r"\+0x[0-9a-f]+", "", parts[1])
            cur[2].append(re.sub(r"::h[0-9a-f]{16}", "", sym))
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data = samples(sys.argv[1])
    if len(sys.argv) < 5:
        counts = collections.Counter(int(t / 0.05) for t, _, _ in data)
        for k in sorted(counts):
            print(f"{k * 0.05:5.2f} {counts[k]:4d} " + "#" * (counts[k] // 2))
        return
    a, b, step = map(float, sys.argv[2:5])
    slices = collections.defaultdict(collections.Counter)
    for t, tid, stack in data:
        if a <= t < b:
            ours = [f for f in stack if "ml_audit" in f and "rule::run_rules" not in f]
            name = (ours[0] if ours else stack[0] if stack else "?")[:60]
            slices[int((t - a) / step)][(tid, name)] += 1
    for k in sorted(slices):
        top = sorted(slices[k].items(), key=lambda x: -x[1])[:4]
        print(f"{a + k * step:.3f}", " | ".join(f"{tid}:{n}:{v}" for (tid, n), v in top))


if __name__ == "__main__":
    main()
