"""What diff shows of live drift and of a chart's CRDs, from the live comparison's findings."""

from __future__ import annotations

from helmkit.actions.livecheck import LiveCheck, live_lines
from helmkit.plan.livediff import live_drift
from helmkit.plan.manifests import ObjectKey

DEPLOY = ObjectKey("apps", "Deployment", "shop", "web")
CM = ObjectKey("", "ConfigMap", "shop", "web-cfg")
SECRET = ObjectKey("", "Secret", "shop", "web-db")
CANARY = "canary-live-Secret-41"


def body(kind: str, name: str, **rest: object) -> dict[str, object]:
    return {"apiVersion": "apps/v1" if kind == "Deployment" else "v1", "kind": kind,
            "metadata": {"name": name, "namespace": "shop"}, **rest}


def test_live_lines_name_each_field_live_to_git_and_mask_secrets() -> None:
    containers = [{"name": "app", "image": "nginx:1.27"}]
    deployed = {
        DEPLOY: ("apps/v1", body("Deployment", "web", spec={"template": {"spec": {"containers": containers}}})),
        CM: ("v1", body("ConfigMap", "web-cfg", data={"a": "1"})),
        SECRET: ("v1", body("Secret", "web-db", stringData={"password": CANARY})),
    }
    live = {
        DEPLOY: body("Deployment", "web", spec={"template": {"spec": {"containers": [
            {"name": "app", "image": "nginx:by-hand"}]}}}),
        SECRET: body("Secret", "web-db", data={"password": "dHlwZWQtYnktaGFuZA=="}),
    }
    check = LiveCheck(drift=live_drift("web", "shop", deployed, live, secret_values=[CANARY]))
    lines, crds = live_lines(check)
    text = "\n".join(lines)
    assert lines[0].startswith("live drift: sync repairs it") and crds == []
    assert "  ~ apps/v1/Deployment shop/web" in lines
    assert "      spec.template.spec.containers[name=app].image: nginx:by-hand -> nginx:1.27" in lines
    assert "  + v1/ConfigMap shop/web-cfg: missing from the cluster; re-created" in lines
    assert "      data.password: " in text, text  # as masks, whatever their form
    assert CANARY not in text and "typed-by-hand" not in text
    assert check.summary() == "restores 2 changed, 1 missing"


def test_crd_changes_are_applied_only_under_create_replace() -> None:
    crd = ObjectKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")
    drift = live_drift("", "", {crd: ("apiextensions.k8s.io/v1", {"spec": {"group": "example.com"}})}, {})
    replace = LiveCheck(policy="CreateReplace", crd_changes=drift.objects)
    create = LiveCheck(policy="Create", crd_changes=drift.objects)
    assert live_lines(replace)[1][0].startswith("chart CRDs (crds: CreateReplace)") and replace.repairs
    assert "NOT applied" in live_lines(create)[1][0] and not create.repairs
    assert live_lines(LiveCheck(policy="Skip", crd_changes=drift.objects)) == ([], [])
