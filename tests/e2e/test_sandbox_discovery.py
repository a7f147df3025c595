"""Extension-API and cluster-policy kinds real charts ship (APIService, webhook configurations,
PriorityClass, RuntimeClass, IngressClass): discovered with the scope, verbs, short names and
categories of a real 1.34 API server (``kubectl api-resources -o wide`` there), stored and listed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Tools

pytestmark = pytest.mark.e2e

ALL_VERBS = "create,delete,deletecollection,get,list,patch,update,watch"
# (name, short names, apiVersion, namespaced, kind, verbs, categories) as a real 1.34 server lists them
EXPECTED = [
    ("mutatingwebhookconfigurations", "", "admissionregistration.k8s.io/v1", "false", "MutatingWebhookConfiguration",
     ALL_VERBS, "api-extensions"),
    ("validatingwebhookconfigurations", "", "admissionregistration.k8s.io/v1", "false",
     "ValidatingWebhookConfiguration", ALL_VERBS, "api-extensions"),
    ("apiservices", "", "apiregistration.k8s.io/v1", "false", "APIService", ALL_VERBS, "api-extensions"),
    ("ingressclasses", "", "networking.k8s.io/v1", "false", "IngressClass", ALL_VERBS, ""),
    ("runtimeclasses", "", "node.k8s.io/v1", "false", "RuntimeClass", ALL_VERBS, ""),
    ("priorityclasses", "pc", "scheduling.k8s.io/v1", "false", "PriorityClass", ALL_VERBS, ""),
]
OBJECTS = """
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: e2e-gvisor}
handler: runsc
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high}
value: 100000
description: for the e2e test
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: e2e-nginx}
spec: {controller: example.com/ingress}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.e2e.example.com}
spec: {group: e2e.example.com, version: v1beta1, groupPriorityMinimum: 10, versionPriority: 10,
       insecureSkipTLSVerify: true, service: {name: api, namespace: default}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: e2e-mutate}
webhooks:
  - name: mutate.e2e.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Ignore
    clientConfig: {url: "https://hooks.example.com/mutate"}
    rules: [{apiGroups: [e2e.example.com], apiVersions: [v1], operations: [CREATE], resources: [things]}]
"""


def _row(line: str, widths: list[tuple[int, int]]) -> tuple[str, ...]:
    return tuple(line[start:end].strip() for start, end in widths)


@pytest.mark.parametrize("helm_major", ["3"])  # kubectl 1.34
def test_api_resources_match_a_real_server(tools: Tools) -> None:
    lines = tools.kubectl("api-resources", "-o", "wide").stdout.splitlines()
    header = lines[0]
    starts = [header.index(col) for col in ("NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS",
                                            "CATEGORIES")]
    widths = list(zip(starts, [*starts[1:], 10_000], strict=True))
    rows = {_row(line, widths)[0]: _row(line, widths) for line in lines[1:]}
    for expected in EXPECTED:
        assert rows.get(expected[0]) == expected


def test_cluster_scoped_extension_kinds_are_stored_and_listed(tools: Tools) -> None:
    try:
        tools.kubectl("apply", "-f", "-", stdin=OBJECTS)
        assert tools.kubectl("get", "pc", "e2e-high", "-o", "jsonpath={.value}").stdout == "100000"
        assert tools.get("pc", "e2e-high")["preemptionPolicy"] == "PreemptLowerPriority"
        names = tools.kubectl("get", "runtimeclasses,ingressclasses,apiservices,mutatingwebhookconfigurations",
                              "-o", "name").stdout.split()
        assert {"runtimeclass.node.k8s.io/e2e-gvisor", "ingressclass.networking.k8s.io/e2e-nginx",
                "apiservice.apiregistration.k8s.io/v1beta1.e2e.example.com",
                "mutatingwebhookconfiguration.admissionregistration.k8s.io/e2e-mutate"} <= set(names)
        extensions = tools.kubectl("get", "api-extensions", "-o", "name").stdout.split()
        assert "mutatingwebhookconfiguration.admissionregistration.k8s.io/e2e-mutate" in extensions
        webhook = tools.get("mutatingwebhookconfiguration", "e2e-mutate")["webhooks"][0]
        assert (webhook["reinvocationPolicy"], webhook["matchPolicy"]) == ("Never", "Equivalent")
        status = tools.get("apiservice", "v1beta1.e2e.example.com")["status"]
        assert [(c["type"], c["status"]) for c in status["conditions"]] == [("Available", "True")]
        headers = {kind: tools.kubectl("get", kind, "--no-headers=false").stdout.splitlines()[0].split()
                   for kind in ("pc", "runtimeclass", "ingressclass", "apiservice", "mutatingwebhookconfiguration")}
        assert headers == {  # the columns a real server's tables have
            "pc": ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
            "runtimeclass": ["NAME", "HANDLER", "AGE"],
            "ingressclass": ["NAME", "CONTROLLER", "PARAMETERS", "AGE"],
            "apiservice": ["NAME", "SERVICE", "AVAILABLE", "AGE"],
            "mutatingwebhookconfiguration": ["NAME", "WEBHOOKS", "AGE"],
        }
        row = tools.kubectl("get", "apiservice", "v1beta1.e2e.example.com", "--no-headers").stdout.split()
        assert row[:3] == ["v1beta1.e2e.example.com", "default/api", "True"]
        pc_row = tools.kubectl("get", "pc", "e2e-high", "--no-headers").stdout.split()
        assert (pc_row[:3], pc_row[-1]) == (["e2e-high", "100000", "false"], "PreemptLowerPriority")
        namespaced = tools.kubectl("get", "runtimeclass", "e2e-gvisor", "-n", "kube-system", "-o", "name")
        assert namespaced.stdout.strip() == "runtimeclass.node.k8s.io/e2e-gvisor"  # -n is ignored: cluster scope
    finally:
        tools.kubectl("delete", "-f", "-", "--ignore-not-found", stdin=OBJECTS, check=False)
