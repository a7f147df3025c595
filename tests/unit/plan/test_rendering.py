"""A rendering that carries its ``crds/`` part answers as a scan of its text does, without the scan."""

from __future__ import annotations

import copy
import pickle

import pytest

from helmkit.plan.manifests import template_documents
from helmkit.plan.rendering import Rendering, crds_prefix, known_part, with_crds_part

PART = """---
# Source: stack/crds/widgets.yaml
# a comment before the first document of the file
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, note: “quoted”}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
---
# Source: stack/charts/sub/crds/things.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
"""
TEMPLATES = """---
# Source: stack/templates/crds/not-a-crds-folder.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: one}
---
# Source: stack/templates/config.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: two}
"""


def test_a_kept_part_and_templates_answer_as_a_scan_of_the_text() -> None:
    made = with_crds_part(PART, PART.count("\n"), TEMPLATES)
    plain = PART + TEMPLATES
    assert made == plain
    assert crds_prefix(made) == crds_prefix(plain) == PART
    assert template_documents(made) == template_documents(plain)
    assert [(d.source, d.line) for d in template_documents(made)] == [
        ("stack/templates/crds/not-a-crds-folder.yaml", 18), ("stack/templates/config.yaml", 23)]


@pytest.mark.parametrize("text", [PART + TEMPLATES, TEMPLATES, PART, ""], ids=["both", "templates", "crds", "empty"])
def test_known_part_attaches_what_a_scan_finds(text: str) -> None:
    found = known_part(text)
    assert found == text
    assert crds_prefix(found) == crds_prefix(text)
    assert isinstance(found, Rendering) is bool(crds_prefix(text))
    assert template_documents(found) == template_documents(text)


def test_renderings_of_one_part_share_it() -> None:
    first = known_part(PART + TEMPLATES)
    assert isinstance(first, Rendering)
    second = with_crds_part(first.crds, first.crds_lines, TEMPLATES.replace("two", "three"))
    assert crds_prefix(second) is crds_prefix(first)


def test_a_rendering_survives_copies_and_pickling() -> None:
    made = with_crds_part(PART, PART.count("\n"), TEMPLATES)
    for again in (copy.deepcopy(made), pickle.loads(pickle.dumps(made))):  # noqa: S301 -- our own bytes
        assert again == made and isinstance(again, Rendering)
        assert (again.crds, again.crds_lines) == (made.crds, made.crds_lines)
