"""A heavy chart written for the benchmarks: what a prometheus-stack-like add-on weighs, generated.

:func:`write_heavy_chart` writes the chart ``heavy-stack`` (and its vendored subchart
``telemetry-agent`` under ``charts/``) into a folder. Nothing here is copied from an upstream
chart; the content is generated from a fixed seed, so every run writes the same bytes. It carries
the traits that make real add-ons expensive to render, compare and store:

* ``crds/`` in the chart (6 files) and in the subchart (4 files), over 3 MB of
  CustomResourceDefinitions with deep OpenAPI schemas (nested objects and arrays, enums, long
  descriptions, several served versions); some files open with a licence comment and ``---``;
* over 50 templates: a Deployment, Service, ServiceAccount and RBAC per component, a node
  DaemonSet, multi-line config files (``|`` block scalars), custom resources of its own CRDs;
* ServiceMonitors and PrometheusRules only when ``.Capabilities.APIVersions.Has
  "monitoring.coreos.com/v1"`` (in the chart and in the subchart);
* Grafana-dashboard-like JSON in ConfigMaps, several megabytes in all, with ``{{`...`}}``-escaped
  legend templates as real dashboard charts have them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

NAME = "heavy-stack"
SUBCHART = "telemetry-agent"
VERSION = "58.2.1"
GROUP = "observability.example.com"
SUB_GROUP = "telemetry.example.com"
LICENCE = ("# Copyright The heavy-stack Authors.\n# SPDX-License-Identifier: Apache-2.0\n"
           "# Generated for the helmkit benchmarks; not an upstream file.\n---\n")
WORDS = ("scrape", "target", "relabel", "endpoint", "selector", "retention", "shard", "replica", "storage",
         "volume", "secret", "config", "alert", "route", "receiver", "inhibit", "silence", "query", "remote",
         "write", "read", "queue", "batch", "timeout", "interval", "label", "annotation", "tls", "bearer",
         "token", "proxy", "header", "tenant", "namespace", "pod", "node", "service", "probe", "rule",
         "group", "tolerance", "affinity", "priority", "resource", "limit", "request", "metric", "series")
ENUMS = (["Always", "IfNotPresent", "Never"], ["http", "https"], ["keep", "drop", "replace", "hashmod",
         "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase", "keepequal", "dropequal"],
         ["Equal", "Exists"], ["NoSchedule", "PreferNoSchedule", "NoExecute"], ["TCP", "UDP", "SCTP"],
         ["OnDelete", "RollingUpdate"], ["debug", "info", "warn", "error"], ["v1", "v2"])
COMPONENTS = ("operator", "prometheus", "alertmanager", "grafana", "kube-state-metrics", "query-frontend",
              "thanos-sidecar", "rules-evaluator", "config-reloader", "admission-webhook")
CRDS = {  # file stem -> (kind, group, target size in bytes); the chart's and the subchart's
    NAME: [("metricsstores", "MetricsStore", GROUP, 420_000), ("alertroutes", "AlertRoute", GROUP, 330_000),
           ("scrapeconfigs", "ScrapeConfig", GROUP, 380_000), ("probes", "Probe", GROUP, 250_000),
           ("recordingrules", "RecordingRule", GROUP, 300_000), ("silences", "Silence", GROUP, 260_000)],
    SUBCHART: [("collectors", "Collector", SUB_GROUP, 360_000), ("pipelines", "Pipeline", SUB_GROUP, 330_000),
               ("exporters", "Exporter", SUB_GROUP, 260_000), ("samplers", "Sampler", SUB_GROUP, 240_000)],
}
DASHBOARDS = 10
DASHBOARD_PANELS = 110


RELEASES: tuple[dict[str, Any], ...] = (  # fleetgen.ReleaseBlueprint fields
    dict(
        name="monitoring-stack", chart="heavy-stack", namespace="monitoring-stack",
        labels={"tier": "platform", "team": "observability"},
        needs=("prometheus-operator",),
        values={"clusterName": "${cluster.name}", "grafana": {"replicas": 1}},
        env_values=lambda env: {"retention": "30d" if env == "prod" else "7d",
                                "prometheus": {"replicas": 2 if env == "prod" else 1}},
        cluster_values=lambda place: {"logLevel": "debug"} if place.index == 0 else {},
    ),
    dict(
        name="log-aggregator", chart="log-shipper", namespace="logging-aggregator",
        labels={"tier": "platform", "team": "observability"},
        values={"output": {"host": "aggregator.${cluster.region}.example.com", "clusterTag": "${cluster.name}"}},
        env_values=lambda env: {"logLevel": "warn" if env == "prod" else "debug"},
    ),
    dict(
        name="blackbox-exporter", chart="web-service", namespace="exporters",
        labels={"tier": "platform", "team": "observability"},
        needs=("prometheus-operator",),
        values={"image": {"repository": "registry.example.com/exporters/blackbox", "tag": "0.25.0"},
                "app": {"port": 9115, "env": {"REGION": "${cluster.region}"}},
                "ingress": {"enabled": False}, "serviceMonitor": {"enabled": True}},
        env_values=lambda env: {"replicaCount": 2 if env == "prod" else 1},
    ),
)




def _dump(data: Any) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, width=100))


def _words(rnd: random.Random, count: int) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(count))


def _schema(rnd: random.Random, depth: int, budget: list[int]) -> dict[str, Any]:
    """An OpenAPI object schema; ``budget[0]`` counts down the properties still to generate."""
    props: dict[str, Any] = {}
    for _ in range(rnd.randint(4, 9)):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        name = rnd.choice(WORDS) + rnd.choice(WORDS).capitalize()
        doc = f"{name} {_words(rnd, rnd.randint(12, 40))}. Defaults to the operator's setting when unset."
        roll = rnd.random()
        if depth < 7 and roll < 0.35:
            child = _schema(rnd, depth + 1, budget)
            props[name] = {"description": doc, **child}
        elif depth < 7 and roll < 0.45:
            props[name] = {"description": doc, "type": "array", "items": _schema(rnd, depth + 1, budget)}
        elif roll < 0.65:
            props[name] = {"description": doc, "type": "string", "enum": list(rnd.choice(ENUMS))}
        elif roll < 0.8:
            props[name] = {"description": doc, "type": "integer", "format": "int32", "minimum": 0}
        elif roll < 0.9:
            props[name] = {"description": doc, "type": "boolean"}
        else:
            props[name] = {"description": doc, "anyOf": [{"type": "integer"}, {"type": "string"}],
                           "x-kubernetes-int-or-string": True}
    required = sorted(props)[:2]
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required and depth > 0:
        out["required"] = required
    return out


def _crd(plural: str, kind: str, group: str, size: int, seed: int) -> str:
    rnd = random.Random(seed)
    versions = []
    for version, served_storage in (("v1", True), ("v1beta1", False)):
        budget = [size // 1300]
        spec = _schema(rnd, 0, budget)
        versions.append({
            "name": version, "served": True, "storage": served_storage,
            "additionalPrinterColumns": [
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"}],
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "description": f"{kind} {_words(rnd, 30)}.", "type": "object",
                "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                               "metadata": {"type": "object"}, "spec": spec,
                               "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                "required": ["spec"]}},
        })
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"{plural}.{group}",
                        "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.1",
                                        "operator.example.com/version": VERSION}},
           "spec": {"group": group, "scope": "Namespaced",
                    "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural,
                              "singular": plural.rstrip("s"), "categories": ["observability"]},
                    "versions": versions}}
    return _dump(crd)


def _dashboard(index: int) -> str:
    rnd = random.Random(1000 + index)
    panels = []
    for number in range(DASHBOARD_PANELS):
        metric = f"{rnd.choice(WORDS)}_{rnd.choice(WORDS)}_{rnd.choice(('total', 'seconds', 'bytes', 'ratio'))}"
        panels.append({
            "id": number + 1, "type": rnd.choice(("timeseries", "stat", "gauge", "table", "heatmap")),
            "title": _words(rnd, 4).title(), "description": _words(rnd, 18),
            "gridPos": {"h": 8, "w": 12, "x": (number % 2) * 12, "y": (number // 2) * 8},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": rnd.choice(("s", "bytes", "percentunit", "reqps", "short")),
                                         "thresholds": {"mode": "absolute", "steps": [
                                             {"color": "green", "value": None},
                                             {"color": "red", "value": rnd.randint(50, 99)}]}},
                            "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max", "last"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}},
            "targets": [{"refId": chr(65 + t), "interval": "",
                         "expr": f'sum by (namespace, pod) (rate({metric}{{cluster="$cluster", '
                                 f'namespace=~"$namespace", job="{rnd.choice(COMPONENTS)}"}}[$__rate_interval]))',
                         "legendFormat": "@@{{namespace}}/{{pod}}@@"} for t in range(rnd.randint(1, 4))],
        })
    board = {"title": f"Heavy Stack / {_words(rnd, 2).title()} {index:02d}", "uid": f"heavy-{index:02d}",
             "schemaVersion": 39, "editable": False, "timezone": "utc", "refresh": "30s",
             "templating": {"list": [{"name": n, "type": "query", "query": f"label_values(up, {n})"}
                                     for n in ("cluster", "namespace", "pod")]},
             "panels": panels}
    text = json.dumps(board, indent=2)
    # a Go-template-safe form of "{{namespace}}": the `{{` and `}}` come out literally
    return text.replace("@@{{", "{{`{{").replace("}}@@", "}}`}}")


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


def _component_templates(component: str, values_key: str) -> dict[str, str]:
    v = f".Values.{values_key}"
    name = f'{{{{ include "heavy.fullname" . }}}}-{component}'
    labels = (f'    {{{{- include "heavy.labels" . | nindent 4 }}}}\n'
              f"    app.kubernetes.io/component: {component}\n")
    match = f'app.kubernetes.io/name: {{{{ include "heavy.name" . }}}}\napp.kubernetes.io/component: {component}'
    selector = _indent(match, 4) + "\n"  # under spec.selector / matchLabels
    pod_labels = _indent(match, 8) + "\n"
    out = {
        "serviceaccount.yaml": f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  labels:\n{labels}",
        "service.yaml": (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  labels:\n{labels}spec:\n"
                         f"  selector:\n{selector}  ports:\n    - name: http\n"
                         f"      port: {{{{ {v}.port }}}}\n      targetPort: http\n"),
        "deployment.yaml": (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n{labels}spec:\n"
            f"  replicas: {{{{ {v}.replicas }}}}\n  selector:\n    matchLabels:\n{_indent(match, 6)}\n"
            f"  template:\n    metadata:\n      labels:\n{pod_labels}"
            f"      annotations:\n        checksum/config: {{{{ {v} | toJson | sha256sum }}}}\n"
            f"    spec:\n      serviceAccountName: {name}\n      containers:\n        - name: {component}\n"
            f'          image: "{{{{ .Values.image.registry }}}}/{component}:{{{{ .Chart.AppVersion }}}}"\n'
            f"          args:\n            - --log.level={{{{ .Values.logLevel }}}}\n"
            f"            - --config.file=/etc/{component}/config.yaml\n"
            f"          ports:\n            - name: http\n              containerPort: {{{{ {v}.port }}}}\n"
            f"          resources:\n            {{{{- toYaml {v}.resources | nindent 12 }}}}\n"
            f"          volumeMounts:\n            - name: config\n              mountPath: /etc/{component}\n"
            f"      volumes:\n        - name: config\n          configMap:\n            name: {name}-config\n"),
        "config.yaml": (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\n  labels:\n{labels}data:\n"
            f"  config.yaml: |\n    global:\n      scrape_interval: {{{{ .Values.scrapeInterval }}}}\n"
            f"      external_labels:\n        cluster: {{{{ .Values.clusterName | quote }}}}\n"
            f"    {component}:\n      listen: 0.0.0.0:{{{{ {v}.port }}}}\n"
            "      retention: {{ .Values.retention }}\n"
            + "".join(f"      {w}_{i}: {w}-{component}-{i}\n" for i, w in enumerate(WORDS[:24]))),
        "rbac.yaml": (
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\n"
            f"  labels:\n{labels}rules:\n  - apiGroups: [\"\", \"apps\", \"{GROUP}\", \"monitoring.coreos.com\"]\n"
            f"    resources: [\"pods\", \"services\", \"endpoints\", \"configmaps\", \"deployments\"]\n"
            f"    verbs: [\"get\", \"list\", \"watch\"]\n---\napiVersion: rbac.authorization.k8s.io/v1\n"
            f"kind: ClusterRoleBinding\nmetadata:\n  name: {name}\n  labels:\n{labels}roleRef:\n"
            f"  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {name}\nsubjects:\n"
            f"  - kind: ServiceAccount\n    name: {name}\n    namespace: {{{{ .Release.Namespace }}}}\n"),
        "servicemonitor.yaml": (
            '{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}\n'
            f"apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: {name}\n"
            f"  labels:\n{labels}spec:\n  selector:\n    matchLabels:\n{_indent(match, 6)}\n"
            "  endpoints:\n    - port: http\n      interval: {{ .Values.scrapeInterval }}\n{{- end }}\n"),
    }
    return {f"{component}/{file}": text for file, text in out.items()}


def _rules_template(index: int) -> str:
    rnd = random.Random(500 + index)
    rules = "".join(
        f"        - alert: {_words(rnd, 3).title().replace(' ', '')}\n"
        f"          expr: |\n            sum(rate({rnd.choice(WORDS)}_errors_total"
        f"{{job=\"{rnd.choice(COMPONENTS)}\"}}[5m]))\n"
        f"              / sum(rate({rnd.choice(WORDS)}_requests_total[5m])) > 0.0{rnd.randint(1, 9)}\n"
        f"          for: {rnd.choice(('5m', '10m', '15m'))}\n          labels:\n            severity: "
        f"{rnd.choice(('warning', 'critical'))}\n          annotations:\n"
        f"            summary: {_words(rnd, 8)}\n            runbook_url: https://runbooks.example.com/{index}/{i}\n"
        for i in range(25))
    return ('{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}\n'
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n"
            f'  name: {{{{ include "heavy.fullname" . }}}}-rules-{index:02d}\n  labels:\n'
            '    {{- include "heavy.labels" . | nindent 4 }}\n'
            f"spec:\n  groups:\n    - name: heavy-{index:02d}.rules\n      rules:\n{rules}{{{{- end }}}}\n")


HELPERS = """{{- define "heavy.name" -}}{{ .Chart.Name }}{{- end }}
{{- define "heavy.fullname" -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- end }}
{{- define "heavy.labels" -}}
app.kubernetes.io/name: {{ include "heavy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
"""


def _values(components: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"clusterName": "", "logLevel": "info", "scrapeInterval": "30s", "retention": "15d",
                           "image": {"registry": "registry.example.com/heavy"},
                           "dashboards": {"enabled": True}, "customResources": {"enabled": True}}
    for index, component in enumerate(components):
        out[component.replace("-", "_")] = {
            "replicas": 1, "port": 8080 + index,
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}}
    return out


def _write_chart(root: Path, name: str, components: tuple[str, ...], crds: list[tuple[str, str, str, int]], *,
                 seed: int, subcharts: tuple[str, ...] = ()) -> None:
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "crds").mkdir(exist_ok=True)
    (root / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: {name}\nversion: {VERSION}\nappVersion: \"v0.{seed}.0\"\n"
        "description: A heavy observability stack generated for the helmkit benchmarks\n"
        + "".join(f"dependencies:\n  - name: {sub}\n    version: {VERSION}\n" for sub in subcharts))
    (root / "values.yaml").write_text(_dump(_values(components)))
    (root / "templates" / "_helpers.tpl").write_text(HELPERS)
    for index, (plural, kind, group, size) in enumerate(crds):
        head = LICENCE if index % 2 == 0 else ""
        (root / "crds" / f"{plural}.yaml").write_text(head + _crd(plural, kind, group, size, seed * 100 + index))
    for component in components:
        for rel, text in _component_templates(component, component.replace("-", "_")).items():
            (root / "templates" / rel.replace("/", "-")).write_text(text)


def write_heavy_chart(charts: Path) -> Path:
    """Write ``heavy-stack`` (and its subchart) into ``charts``; return the chart folder."""
    root = charts / NAME
    _write_chart(root, NAME, COMPONENTS, CRDS[NAME], seed=1, subcharts=(SUBCHART,))
    templates = root / "templates"
    for index in range(DASHBOARDS):
        (templates / f"dashboard-{index:02d}.yaml").write_text(
            "{{- if .Values.dashboards.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f'  name: {{{{ include "heavy.fullname" . }}}}-dashboard-{index:02d}\n  labels:\n'
            '    {{- include "heavy.labels" . | nindent 4 }}\n    grafana_dashboard: "1"\ndata:\n'
            f"  dashboard-{index:02d}.json: |-\n{_indent(_dashboard(index), 4)}\n{{{{- end }}}}\n")
    for index in range(6):
        (templates / f"rules-{index:02d}.yaml").write_text(_rules_template(index))
    (templates / "node-exporter.yaml").write_text(
        'apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {{ include "heavy.fullname" . }}-node-exporter\n'
        '  labels:\n    {{- include "heavy.labels" . | nindent 4 }}\nspec:\n  selector:\n    matchLabels:\n'
        "      app.kubernetes.io/component: node-exporter\n  template:\n    metadata:\n      labels:\n"
        "        app.kubernetes.io/component: node-exporter\n    spec:\n      hostNetwork: true\n"
        "      containers:\n        - name: node-exporter\n"
        '          image: "{{ .Values.image.registry }}/node-exporter:v1.8.2"\n'
        "          args: [--path.rootfs=/host]\n      tolerations:\n        - operator: Exists\n")
    (templates / "custom-resources.yaml").write_text(
        "{{- if .Values.customResources.enabled }}\n"
        + "---\n".join(f"apiVersion: {GROUP}/v1\nkind: {kind}\nmetadata:\n"
                       f'  name: {{{{ include "heavy.fullname" . }}}}-{plural}\n  labels:\n'
                       '    {{- include "heavy.labels" . | nindent 4 }}\nspec: {}\n'
                       for plural, kind, _, _ in CRDS[NAME][:3])
        + "{{- end }}\n")
    _write_chart(root / "charts" / SUBCHART, SUBCHART, ("collector", "gateway"), CRDS[SUBCHART], seed=2)
    return root


if __name__ == "__main__":
    import sys

    print(write_heavy_chart(Path(sys.argv[1])))
