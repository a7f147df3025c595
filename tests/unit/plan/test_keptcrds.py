"""Large CRDs are read from YAML once and kept as JSON; nothing else is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.adapters.cache import ContentCache
from helmkit.plan import keptcrds
from helmkit.plan.keptcrds import KeptCrds, meaningful
from helmkit.plan.manifests import DocumentCache, parse_documents, split_documents


def crd_text(group: str = "example.com", enum_items: int = 900) -> str:
    """A CRD well over LARGE, with an ``=`` enum item (go-yaml reads it as a string)."""
    items = "\n".join(f"                  - item-{i}" for i in range(enum_items))
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  names: {{kind: Widget, plural: widgets}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            op:
              type: string
              enum:
                  - =
{items}
"""


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = keptcrds.load_yaml

    def counting(text: str) -> Any:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(keptcrds, "load_yaml", counting)
    return seen


def test_a_large_crd_is_read_once_across_runs(tmp_path: Path, parses: list[str]) -> None:
    text = crd_text()
    assert len(text) >= keptcrds.LARGE
    first = KeptCrds(ContentCache(tmp_path)).load(text)
    assert len(parses) == 1
    assert first["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["op"]["enum"][0] == "="
    again = KeptCrds(ContentCache(tmp_path)).load(text)  # the next run: from the cache
    assert again == first
    assert len(parses) == 1


def test_the_rendered_document_finds_the_chart_file(tmp_path: Path, parses: list[str]) -> None:
    """helm prints a crds/ file behind ``# Source:``: the same object, read once."""
    text = crd_text()
    kept = KeptCrds(ContentCache(tmp_path))
    kept.load(split_documents(text)[0].text)  # the chart's file, as crd_api_versions reads it
    rendered = f"---\n# Source: chart/crds/widgets.yaml\n{text}\n---\n# Source: chart/templates/cm.yaml\n" \
               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
    manifest = parse_documents(split_documents(rendered), "default",
                               cache=DocumentCache(kept=KeptCrds(ContentCache(tmp_path))))
    assert len(manifest.objects) == 2
    crd = [o for o in manifest.objects.values() if o.is_crd]
    assert crd[0].body["metadata"]["name"] == "widgets.example.com"
    assert len(parses) == 2  # the CRD once, the small ConfigMap as it is


def test_only_crds_are_kept(tmp_path: Path) -> None:
    """A large Secret (that names CustomResourceDefinition in its data) never reaches the cache."""
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  note: CustomResourceDefinition\n" + \
             "".join(f"  key{i}: sup3r-s3cret-{i}\n" for i in range(2000))
    assert len(secret) >= keptcrds.LARGE
    cache_dir = tmp_path / "cache"
    body = KeptCrds(ContentCache(cache_dir)).load(secret)
    assert body["kind"] == "Secret"
    assert not [p for p in cache_dir.rglob("*") if p.is_file()]
    KeptCrds(ContentCache(cache_dir)).load(crd_text())
    assert len([p for p in cache_dir.rglob("*") if p.is_file()]) == 1


def test_what_json_cannot_hold_is_read_again(tmp_path: Path, parses: list[str]) -> None:
    text = crd_text().replace("type: object\n", "type: object\n          x-limit: .nan\n", 1)
    KeptCrds(ContentCache(tmp_path)).load(text)
    KeptCrds(ContentCache(tmp_path)).load(text)
    assert len(parses) == 2


def test_meaningful_leaves_what_yaml_reads() -> None:
    text = "\n# Source: a/crds/x.yaml\n  # note\n\nkind: A\nspec:\n  # inner\n  x: 1\n\n\n"
    assert meaningful(text) == "kind: A\nspec:\n  # inner\n  x: 1"
    assert yaml.safe_load(meaningful(text)) == yaml.safe_load(text)
