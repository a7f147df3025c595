"""Reading all Helm release records of a cluster: helmkit's client vs kubectl vs per-release helm.

    .venv/bin/python benchmarks/kube_reader_bench.py [--sizes 20,100,500] [--repeat 3]

For each N, a sandbox cluster gets N releases: one installed by real helm 4, the others copies of
its release Secret under new names (real records, made fast). Then, per method, the wall time to
have every release's decoded record (median of ``--repeat`` runs):

- ``helmkit``: KubeClient + read_releases (fresh client: discovery + one paginated list call);
- ``kubectl``: one ``kubectl get secrets -A -l owner=helm -o json`` process, decoded by helmkit;
- ``helm get manifest``: one helm process per release (what a helm-based tool does), run
  sequentially (measured on at most 100 releases and scaled linearly above that).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helmkit.adapters.helmstorage import decode_release, decode_storage_object, encode_release, read_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import binary_path
from helmkit.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
HELM_SAMPLE = 100


def write_chart(root: Path) -> Path:
    chart = root / "bench"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: bench\nversion: 1.0.0\n")
    body = "\n".join(f"  key{i}: {{{{ .Values.v | quote }}}}" for i in range(40))
    for n in range(4):
        (chart / "templates" / f"cm{n}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-{n}\ndata:\n{body}\n")
    (chart / "values.yaml").write_text("v: some-value\n")
    return chart


def populate(kube: KubeClient, template: dict[str, object], count: int) -> None:
    release = decode_storage_object(template)  # type: ignore[arg-type]
    payload = base64.b64decode(str(template["data"]["release"]))  # type: ignore[index]
    doc = json.loads(_gunzip_json(payload))
    for i in range(1, count):
        name = f"rel{i:04d}"
        doc["name"] = name
        doc["manifest"] = release.manifest.replace(release.name, name)
        kube.create({
            "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{name}.v1", "namespace": f"team{i % 10}",
                         "labels": {"owner": "helm", "name": name, "status": "deployed", "version": "1"}},
            "data": {"release": base64.b64encode(encode_release(doc).encode()).decode()},
        })


def _gunzip_json(payload: bytes) -> bytes:
    return gzip.decompress(base64.b64decode(payload))


def median_time(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench(size: int, repeat: int, work: Path) -> dict[str, object]:
    runner = Runner(masker=Masker())
    with Sandbox(["bench"]) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(work / f"kubeconfig-{size}")
        env = {k: str(work / f"{k.lower()}-{size}") for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME",
                                                               "HELM_DATA_HOME", "KUBECACHEDIR")}
        env["KUBECONFIG"] = str(kubeconfig)
        helm = binary_path(REPO, "helm-v4.1.4")
        kubectl = binary_path(REPO, "kubectl-v1.35.2")
        runner.run([helm, "install", "rel0000", write_chart(work / f"chart-{size}"), "-n", "team0",
                    "--create-namespace", "--kube-context", "bench"], env=env, timeout=120)
        config = load_cluster_config("bench", runner, kubeconfig=kubeconfig)
        setup = KubeClient(config)
        for ns in range(1, 10):
            setup.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team{ns}"}})
        (template,) = setup.list("v1", "secrets", namespace="team0", label_selector="owner=helm")
        populate(setup, template, size)

        calls = 0

        def ours() -> int:
            nonlocal calls
            client = KubeClient(load_cluster_config("bench", runner, kubeconfig=kubeconfig))
            records = read_releases(client).records
            calls = client.calls
            client.close()
            return len(records)

        def with_kubectl() -> int:
            out = runner.run([kubectl, "--context", "bench", "get", "secrets", "-A", "-l", "owner=helm", "-o", "json"],
                             env=env, timeout=300).stdout
            return len([decode_release(base64.b64decode(i["data"]["release"])) for i in json.loads(out)["items"]])

        names = [(f"rel{i:04d}", f"team{i % 10}") for i in range(size)][:HELM_SAMPLE]

        def with_helm() -> int:
            for name, ns in names:
                runner.run([helm, "get", "manifest", name, "-n", ns, "--kube-context", "bench"], env=env, timeout=60)
            return len(names)

        t_ours, n_ours = median_time(ours, repeat)
        t_kubectl, n_kubectl = median_time(with_kubectl, repeat)
        t_helm, n_helm = median_time(with_helm, 1)
        assert n_ours == n_kubectl == size, (n_ours, n_kubectl, size)
        return {"releases": size, "helmkit_s": t_ours, "helmkit_calls": calls, "kubectl_s": t_kubectl,
                "helm_get_manifest_s": t_helm * size / n_helm, "helm_sampled": n_helm}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,100,500")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="helmkit-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(bench(size, args.repeat, Path(tmp)))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(f"{'releases':>8} {'helmkit':>10} {'calls':>6} {'kubectl':>10} {'helm get manifest':>18}")
    for r in rows:
        scaled = " (scaled)" if int(r["helm_sampled"]) < int(r["releases"]) else ""  # type: ignore[call-overload]
        print(f"{r['releases']:>8} {r['helmkit_s']:>9.3f}s {r['helmkit_calls']:>6} {r['kubectl_s']:>9.3f}s "
              f"{r['helm_get_manifest_s']:>17.2f}s{scaled}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
