"""The CRDs of a rendering come from its ``crds/`` part: renderings of one chart whose templates
differ (a value per cluster) share one reading of the part; templates are never read for it."""

from __future__ import annotations

from helmkit.actions.crds import chart_crds, only_crds
from helmkit.plan.manifests import DocumentCache

CRD = """---
# Source: stack/crds/widgets.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
"""


def rendering(cluster: str) -> str:
    return CRD + f"""---
# Source: stack/templates/config.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: config
data:
  cluster: {cluster}
---
# Source: stack/templates/broken.yaml
this: [is not read
"""


def test_renderings_with_other_templates_share_one_reading_of_the_crds_part() -> None:
    cache = DocumentCache()
    for cluster in ("eu-1", "eu-2", "us-1"):
        found = chart_crds(rendering(cluster), "apps", cache=cache)
        assert [obj.body["metadata"]["name"] for obj in found] == ["widgets.example.com"]
        assert only_crds(rendering(cluster), "apps", cache=cache)
    assert len(cache.crds) == 1
    assert len(cache.only_crds) == 1


def test_a_rendering_of_crds_alone_and_one_without_any() -> None:
    assert [obj.body["kind"] for obj in chart_crds(CRD, "apps")] == ["CustomResourceDefinition"]
    assert chart_crds(rendering("x").removeprefix(CRD), "apps") == []
    assert only_crds(rendering("x").removeprefix(CRD), "apps")
