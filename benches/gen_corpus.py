#!/usr/bin/env python3
"""Builds a large, realistic GitOps repository from ../shared/corpus.

Each copy `c<N>/` holds every object of the corpus but the CRDs (which a
repository installs once: they go to copy 0 only), with names and namespaces
made unique per copy: every `name:`, `namespace:` and `*Name:` value (object
names, and the references to them: roleRef, subjects, serviceAccountName,
claimName, secretName, configMap names ...) gets the suffix `-c<N>`, so
references inside a copy still match and copies do not collide; so do the
ClusterRole aggregation labels: those that name a role of the copy
(`.../aggregate-to-kubeflow-edit`) and every other label key an
aggregationRule of the corpus selects on (`serving.knative.dev/controller`,
`duck.knative.dev/addressable`) get the suffix on their key, so that each
copy's aggregating roles gather their own copy's roles (the Kubernetes
defaults `rbac.authorization.k8s.io/aggregate-to-admin/edit/view` gather
all, as in a cluster). Objects
without a namespace get the copy's own (`ns-c<N>`), so every copy is a
tenant.

    python3 benches/gen_corpus.py --objects 100000 --out /tmp/scale-100k

Prints the objects and bytes written.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "shared", "corpus")
DOC_SPLIT = re.compile(r"^---[ \t]*$", re.M)
KIND = re.compile(r"^kind:[ \t]*(\S+)", re.M)
NAMED = re.compile(
    r"^(?P<pre>[ \t]*(?:-[ \t]+)?(?:name|namespace|[a-z][A-Za-z]*Name):[ \t]+)"
    r"(?P<q>['\"]?)(?P<v>[a-z0-9][-a-z0-9.]*)(?P=q)[ \t]*$",
    re.M,
)
# ClusterRole aggregation labels name the role that aggregates them
# (`aggregate-to-kubeflow-edit`): a reference, renamed like the others. The
# Kubernetes defaults (`rbac.authorization.k8s.io/aggregate-to-admin`) are
# one per cluster and stay.
AGGREGATE = re.compile(
    r"^(?P<pre>[ \t]*(?!rbac\.authorization\.k8s\.io/)[-a-z0-9.]+/aggregate-to-[-a-z0-9.]+)(?P<post>:[ \t]*['\"]?true['\"]?[ \t]*)$",
    re.M,
)
AGG_RULE = re.compile(r"^aggregationRule:[ \t]*\n((?:[ \t]+.*\n?)*)", re.M)
SELECTOR_KEY = re.compile(r"^[ \t]+(?:-[ \t]+)?(?P<k>[-A-Za-z0-9./]+):[ \t]*['\"]?[^'\"\n]*['\"]?[ \t]*$", re.M)
META_NS = re.compile(r"^metadata:[ \t]*\n((?:[ \t]+.*\n)*)", re.M)
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "PriorityClass",
    "StorageClass", "ClusterServingRuntime", "ClusterTrainingRuntime", "ClusterQueue",
    "ResourceFlavor", "ClusterIssuer", "APIService", "PersistentVolume", "Profile",
    "ClusterWorkflowTemplate", "IngressClass", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}


def documents():
    for root, dirs, files in os.walk(CORPUS):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            rel = os.path.relpath(path, CORPUS)
            for i, doc in enumerate(DOC_SPLIT.split(text)):
                m = KIND.search(doc)
                if m:
                    yield rel, i, m.group(1), doc


def selector_keys(docs):
    """The label keys aggregationRules select on (but the Kubernetes
    defaults'), as one regex matching a line that sets one of them."""
    keys = set()
    for _, _, kind, doc in docs:
        if kind != "ClusterRole":
            continue
        for block in AGG_RULE.findall(doc):
            for m in SELECTOR_KEY.finditer(block):
                k = m.group("k")
                if "/" in k and not k.startswith("rbac.authorization.k8s.io/"):
                    keys.add(k)
    if not keys:
        return None
    alts = "|".join(re.escape(k) for k in sorted(keys))
    return re.compile(rf"^(?P<pre>[ \t]*(?:{alts}))(?P<post>:[ \t]*\S.*)$", re.M)


def rename(doc, kind, n, agg_keys=None):
    suffix = f"-c{n}"
    doc = NAMED.sub(lambda m: f"{m.group('pre')}{m.group('q')}{m.group('v')}{suffix}{m.group('q')}", doc)
    doc = AGGREGATE.sub(lambda m: f"{m.group('pre')}{suffix}{m.group('post')}", doc)
    if agg_keys is not None and kind == "ClusterRole":
        doc = agg_keys.sub(lambda m: f"{m.group('pre')}{suffix}{m.group('post')}", doc)
    if kind not in CLUSTER_SCOPED:
        m = META_NS.search(doc)
        if m and not re.search(r"^[ \t]+namespace:", m.group(1), re.M):
            indent = re.match(r"[ \t]+", m.group(1)) if m.group(1) else None
            ind = indent.group(0) if indent else "  "
            doc = doc[: m.end(0) - len(m.group(1))] + f"{ind}namespace: ns{suffix}\n" + doc[m.end(0) - len(m.group(1)):]
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not os.path.isdir(CORPUS):
        sys.exit(f"{CORPUS} is absent")
    docs = list(documents())
    agg_keys = selector_keys(docs)
    crds = [d for d in docs if d[2] == "CustomResourceDefinition"]
    rest = [d for d in docs if d[2] != "CustomResourceDefinition"]
    written = nbytes = 0
    copy = 0
    while written < args.objects:
        batch = (crds if copy == 0 else []) + rest
        files = {}
        for rel, i, kind, doc in batch:
            if written >= args.objects:
                break
            files.setdefault(rel, []).append(rename(doc, kind, copy, agg_keys) if kind != "CustomResourceDefinition" else doc)
            written += 1
        for rel, parts in files.items():
            path = os.path.join(args.out, f"c{copy}", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            text = "\n---\n".join(p.strip("\n") for p in parts) + "\n"
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            nbytes += len(text.encode())
        copy += 1
    print(f"{written} objects, {nbytes / 1e6:.1f} MB, {copy} copies in {args.out}")


if __name__ == "__main__":
    main()
