#!/usr/bin/env python3
"""ml-audit vs Checkov on the same manifests: throughput, and which ML CRD
objects each tool reports findings on.

    python3 benches/compare_checkov.py [DIR]        (default: ../shared/corpus)

Needs `checkov` on PATH or in $CHECKOV (PyPI package `checkov`; it is run with
`--framework kubernetes --skip-download`, which otherwise reaches the network)
and builds ml-audit in release mode.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ML_KINDS = {
    "RayCluster", "RayJob", "RayService", "PyTorchJob", "TFJob", "MPIJob", "XGBoostJob",
    "PaddleJob", "JAXJob", "TrainJob", "TrainingRuntime", "ClusterTrainingRuntime", "JobSet",
    "LeaderWorkerSet", "Notebook", "InferenceService", "ServingRuntime",
    "ClusterServingRuntime", "Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate",
    "CronWorkflow", "Experiment", "SeldonDeployment",
}


def size_of(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs
               if f.endswith((".yaml", ".yml", ".json")))


def run_ml_audit(d):
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "kubectl-ml-audit"], cwd=ROOT, check=True)
    t = time.time()
    out = subprocess.run([os.path.join(target, "release", "kubectl-ml_audit"), d, "--hidden", "--format", "json"],
                         capture_output=True, text=True)
    dt = time.time() - t
    rep = json.loads(out.stdout)
    objs = {(f["object"]["kind"], f["object"].get("namespace") or "default", f["object"]["name"])
            for f in rep["findings"]}
    return dt, objs, len(rep["findings"])


def run_checkov(d):
    exe = os.environ.get("CHECKOV") or shutil.which("checkov")
    if not exe:
        sys.exit("checkov not found: pip install checkov (or set CHECKOV=/path/to/checkov)")
    t = time.time()
    out = subprocess.run([exe, "-d", d, "--framework", "kubernetes", "--skip-download", "-o", "json",
                          "--quiet", "--compact"], capture_output=True, text=True)
    dt = time.time() - t
    try:
        data = json.loads(out.stdout)
    except json.JSONDecodeError:
        sys.exit("checkov printed no JSON: " + out.stderr[-2000:])
    if isinstance(data, list):
        data = next((x for x in data if x.get("check_type") == "kubernetes"), {})
    objs, n = set(), 0
    for c in data.get("results", {}).get("failed_checks", []):
        n += 1
        parts = c.get("resource", "").split(".")
        if len(parts) >= 3:
            objs.add((parts[0], parts[1], ".".join(parts[2:])))
    return dt, objs, n


def main():
    d = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "corpus"))
    mb = size_of(d) / 1e6
    ml_t, ml_objs, ml_n = run_ml_audit(d)
    ck_t, ck_objs, ck_n = run_checkov(d)
    print(f"input: {d} ({mb:.1f} MB)")
    print(f"{'tool':10} {'seconds':>8} {'MB/s':>8} {'findings':>9} {'objects flagged':>16}")
    print(f"{'ml-audit':10} {ml_t:8.2f} {mb / ml_t:8.1f} {ml_n:9d} {len(ml_objs):16d}")
    print(f"{'checkov':10} {ck_t:8.2f} {mb / ck_t:8.1f} {ck_n:9d} {len(ck_objs):16d}")
    print(f"throughput ratio ml-audit/checkov: {ck_t / ml_t:.1f}x")
    ml_ml = {o for o in ml_objs if o[0] in ML_KINDS}
    ck_ml = {o for o in ck_objs if o[0] in ML_KINDS}
    print("\nML CRD objects with findings, by kind:  ml-audit / checkov")
    by = collections.defaultdict(lambda: [0, 0])
    for o in ml_ml:
        by[o[0]][0] += 1
    for o in ck_ml:
        by[o[0]][1] += 1
    for k in sorted(by):
        print(f"  {k:24} {by[k][0]:5d} / {by[k][1]}")
    print(f"  {'total':24} {len(ml_ml):5d} / {len(ck_ml)}")


if __name__ == "__main__":
    main()
