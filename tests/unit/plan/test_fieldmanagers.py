"""Field managers of live-drift fields, from managedFields (kubectl-scale, kubectl-set...)."""

from __future__ import annotations

from helmkit.plan.fieldmanagers import field_managers

LIVE = {"metadata": {"managedFields": [
    {"manager": "helm", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {
        "f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}}}}}}}},
    {"manager": "kubectl-scale", "operation": "Update", "subresource": "scale",
     "fieldsV1": {"f:spec": {"f:replicas": {}}}},
    {"manager": "kubectl-set", "operation": "Update", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
        "f:containers": {'k:{"name":"web"}': {"f:image": {}}}}}}}},
    {"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {"f:status": {"f:replicas": {}}}},
]}}
EXPECTED = {"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "sidecar", "image": "p:1"},
                                                                        {"name": "web", "image": "web:1"}]}}}}


def test_the_manager_of_a_field_and_of_a_keyed_list_item() -> None:
    assert field_managers(LIVE, EXPECTED, "/spec/replicas") == ("kubectl-scale",)
    assert field_managers(LIVE, EXPECTED, "/spec/template/spec/containers/1/image") == ("kubectl-set",)
    assert field_managers(LIVE, EXPECTED, "/spec/template/spec/containers/0/image") == ()  # no entry for it
    assert field_managers(LIVE, EXPECTED, "/spec/paused") == ()
    assert field_managers({"metadata": {}}, EXPECTED, "/spec/replicas") == ()
