"""Comparing a release's rendered manifest with Helm's record of it: time and peak memory.

    .venv/bin/python benchmarks/manifest_compare_bench.py [--mb 5] [--repeat 5]

The desired side is what ``helm template --include-crds`` prints for a heavy chart: about 3 MB of
CRDs in ten ``crds/`` files (each opening with a licence comment and ``---``, a subchart's among
them), Grafana-like dashboards as multi-hundred-KB JSON strings in ConfigMaps, 60 more template
documents and a hook. The deployed side is what helm records: the templates' output only. Two
cases: ``equal`` (a no-op: status, diff and drift on an unchanged fleet) and ``one field`` (one
Deployment's replicas changed).

Three ways, each case in its own process so that its peak RSS is its own:

- ``full parse, PyYAML CSafeLoader``: every document of both sides built into objects with the
  reader helmkit used before (YAML 1.1 rules), then compared -- the previous cost;
- ``full parse, helm's YAML rules``: the same with :class:`helmkit.plan.goyaml.HelmYamlLoader`;
- ``manifest_difference``: what ``decide`` does now -- documents paired by text, only the
  differing ones parsed.

Printed per way and case: the median wall time and CPU time (on a shared machine trust the CPU
time), the documents parsed, the peak of Python allocations during one comparison (tracemalloc),
and the process's peak RSS, also minus its RSS once both manifests are in memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

from helmkit.plan.diffmodel import diff_objects
from helmkit.plan.goyaml import HelmYamlLoader
from helmkit.plan.manifests import differing_documents, object_key, split_documents
from helmkit.plan.status import manifest_difference

NS = "monitoring"
WAYS = ("full parse, PyYAML CSafeLoader", "full parse, helm's YAML rules", "manifest_difference")
CASES = ("equal", "one field")
LICENCE = "# Copyright The Heavy Chart Authors.\n#\n# Licensed under the Apache License, Version 2.0.\n---\n"


def crd(index: int, target_bytes: int) -> str:
    """A CRD of about ``target_bytes`` with a long schema, as controller-gen writes them."""

    def field(number: int) -> dict[str, Any]:
        return {"type": "object", "description": f"Field {number} of the spec. " * 4,
                "properties": {f"leaf{j}": {"type": "string", "enum": ["=", "!=", "<", ">="],
                                            "description": "A leaf that upstream CRDs document at length."}
                               for j in range(6)}}

    def text(count: int) -> str:
        properties = {f"field{n}": field(n) for n in range(count)}
        return dump({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"thing{index}s.heavy.example.com",
                         "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.0"}},
            "spec": {"group": "heavy.example.com", "scope": "Namespaced",
                     "names": {"kind": f"Thing{index}", "plural": f"thing{index}s"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                       "spec": {"type": "object", "properties": properties}}}}}]},
        })

    sample = 20
    return text(max(1, sample * target_bytes // len(text(sample))))


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, width=1_000_000)


def dashboard(index: int, target_bytes: int) -> str:
    def panel(i: int) -> dict[str, Any]:
        return {"id": i, "type": "timeseries", "title": f"p95 latency {i}",
                "targets": [{"expr": f'histogram_quantile(0.95, sum by (le) (rate(http_bucket{{job="a{i}"}}[5m])))',
                             "legendFormat": "{{pod}}"}],
                "fieldConfig": {"defaults": {"unit": "s", "thresholds": {"steps": [{"value": None}, {"value": 1}]}}}}

    panels = [panel(i) for i in range(max(1, target_bytes // len(json.dumps(panel(100)))))]
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"dashboard-{index}", "namespace": NS, "labels": {"grafana_dashboard": "1"}},
            "data": {f"dashboard-{index}.json": json.dumps({"title": f"Dashboard {index}", "panels": panels})}}
    return dump(body)


def workload(index: int, replicas: int) -> list[str]:
    labels = {"app.kubernetes.io/name": f"svc-{index}", "app.kubernetes.io/instance": "heavy"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"svc-{index}", "labels": labels},
                  "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
                      "metadata": {"labels": labels, "annotations": {"checksum/config": "0" * 64}},
                      "spec": {"containers": [{"name": "app", "image": f"example/svc-{index}:1.2.3",
                                               "ports": [{"name": "http", "containerPort": 8080}],
                                               "env": [{"name": f"E{j}", "value": f"v{j}"} for j in range(10)],
                                               "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{index}", "labels": labels},
               "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"svc-{index}-config"},
              "data": {"app.conf": "".join(f"key{j} = {j}\n" for j in range(40))}}
    return [dump(doc) for doc in (deployment, service, config)]


def manifests(megabytes: float, *, changed: bool) -> tuple[str, str]:
    """(desired: helm template --include-crds output, deployed: the release record's manifest)."""
    total = int(megabytes * 1_000_000)
    crds = ""
    for index in range(10):
        folder = "heavy/charts/operator/crds" if index >= 6 else "heavy/crds"
        crds += f"---\n# Source: {folder}/thing{index}.yaml\n{LICENCE}{crd(index, int(total * 0.6 / 10))}\n"
    templates: list[tuple[str, str]] = []
    for index in range(4):
        templates.append((f"heavy/templates/dashboards/{index}.yaml", dashboard(index, int(total * 0.1))))
    for index in range(20):
        for text, kind in zip(workload(index, 2), ("deployment", "service", "configmap"), strict=True):
            templates.append((f"heavy/templates/svc-{index}/{kind}.yaml", text))
    deployed = "".join(f"---\n# Source: {source}\n{text}\n" for source, text in templates)
    hook = ("---\n# Source: heavy/templates/hooks/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n"
            "  name: migrate\n  annotations:\n    helm.sh/hook: pre-upgrade\nspec: {template: {spec: {}}}\n")
    if changed:
        source, text = templates[4]
        templates[4] = (source, text.replace("replicas: 2", "replicas: 3"))
    desired = crds + "".join(f"---\n# Source: {source}\n{text}\n" for source, text in templates) + hook
    return desired, deployed


def full_parse(desired: str, deployed: str, loader: Any) -> tuple[str | None, int]:
    def objects(text: str) -> tuple[dict[Any, Any], int]:
        """Every document read, as parse_manifest did before; crds/ and hooks left out afterwards."""
        found: dict[Any, Any] = {}
        documents = split_documents(text)
        for document in documents:
            body = yaml.load(document.text, Loader=loader)  # noqa: S506 -- safe loaders
            annotations = body.get("metadata", {}).get("annotations") or {}
            if "helm.sh/hook" not in annotations and not document.from_crds_folder:
                found[object_key(body, NS)] = body
        return found, len(documents)

    wanted, parsed_wanted = objects(desired)
    have, parsed_have = objects(deployed)
    changes = diff_objects(wanted, have)
    return (str(len(changes)) if changes else None), parsed_wanted + parsed_have


def paired(desired: str, deployed: str) -> tuple[str | None, int]:
    return manifest_difference(desired, deployed, NS), -1


def child(way: str, folder: Path, repeat: int) -> None:
    desired, deployed = (folder / "desired.yaml").read_text(), (folder / "deployed.yaml").read_text()
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    def run() -> tuple[str | None, int]:
        if way == WAYS[2]:
            return paired(desired, deployed)
        return full_parse(desired, deployed, yaml.CSafeLoader if way == WAYS[0] else HelmYamlLoader)

    walls, cpus = [], []
    result: tuple[str | None, int] = (None, 0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    run()
    allocated = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    parsed = result[1] if result[1] >= 0 else sum(len(side) for side in differing_documents(desired, deployed))
    print(json.dumps({"wall": statistics.median(walls), "cpu": statistics.median(cpus), "result": result[0],
                      "parsed": parsed, "added_mb": (peak_kb - base_kb) / 1024, "peak_mb": peak_kb / 1024,
                      "allocated_mb": allocated / 1e6}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0, help="size of the rendered manifest")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.repeat)
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="helmkit-bench-") as tmp:
        for case in CASES:
            folder = Path(tmp) / case.replace(" ", "-")
            folder.mkdir()
            desired, deployed = manifests(args.mb, changed=case == "one field")
            (folder / "desired.yaml").write_text(desired)
            (folder / "deployed.yaml").write_text(deployed)
            for way in WAYS:
                repeat = args.repeat if way == WAYS[2] else max(1, args.repeat // 2)
                out = subprocess.run([sys.executable, __file__, "--repeat", str(repeat), "--child", way, str(folder)],
                                     capture_output=True, text=True, check=True).stdout
                rows.append((case, way, json.loads(out)))
    print(f"desired {len(desired) / 1e6:.1f} MB (helm template --include-crds, "
          f"{desired.count(chr(10) + '---')} documents), deployed {len(deployed) / 1e6:.1f} MB (release record)")
    print(f"{'case':<10} {'way':<32} {'wall':>10} {'cpu':>10} {'docs parsed':>12} {'peak alloc':>11} "
          f"{'RSS added':>10} {'peak RSS':>9}  result")
    for case, way, r in rows:
        print(f"{case:<10} {way:<32} {r['wall'] * 1000:>8.1f}ms {r['cpu'] * 1000:>8.1f}ms {r['parsed']:>12} "
              f"{r['allocated_mb']:>9.1f}MB {r['added_mb']:>8.1f}MB {r['peak_mb']:>7.0f}MB  {r['result']}")


if __name__ == "__main__":
    main()
