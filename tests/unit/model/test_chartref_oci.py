"""Repository charts named by a helmkit.yaml repository or by a URL written in place, with the
repository's plainHttp and TLS settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from helmkit.adapters.helmconfig import RegistryAccess, TlsOptions
from helmkit.errors import InputError
from helmkit.model.repository import load_repository
from helmkit.model.resolve import resolve_instances

OCI_SETTINGS = """\
  - name: team
    url: oci://registry.example:5000/team/charts
    plainHttp: true
    caFile: certs/ca.pem
    skipTLSVerify: false
"""


def set_chart(root: Path, chart: str) -> None:
    path = root / "releases" / "cert-manager.yaml"
    text = path.read_text()
    _, _, rest = text.partition("namespace:")
    path.write_text(f"chart: {chart}\nnamespace:{rest}")


def add_repository(root: Path, text: str) -> None:
    settings = root / "helmkit.yaml"
    settings.write_text(settings.read_text() + text)


def chart_of(root: Path, release: str = "cert-manager"):  # type: ignore[no-untyped-def]
    instances = resolve_instances(load_repository(root), "dev")
    return next(i for i in instances if i.name == release).chart


def test_oci_repository_by_name_carries_its_settings(basic_repo: Path) -> None:
    add_repository(basic_repo, OCI_SETTINGS)
    set_chart(basic_repo, '{repository: team, name: cert-manager, version: "~1.2"}')
    chart = chart_of(basic_repo)
    assert chart.repository == "oci://registry.example:5000/team/charts" and chart.repository_name == "team"
    assert chart.access == RegistryAccess(True, TlsOptions(ca_file=basic_repo / "certs" / "ca.pem"))


def test_a_url_in_place_of_a_name(basic_repo: Path) -> None:
    add_repository(basic_repo, OCI_SETTINGS)
    set_chart(basic_repo, '{repository: "oci://registry.example:5000/team/charts/", name: cert-manager, '
                          'version: ">=1.0 <2"}')
    chart = chart_of(basic_repo)
    assert chart.repository == "oci://registry.example:5000/team/charts"
    assert chart.display == "oci://registry.example:5000/team/charts/cert-manager"
    assert chart.access is not None and chart.access.plain_http  # the settings of the same URL apply
    set_chart(basic_repo, '{repository: "oci://other.example/charts", name: cert-manager, version: "1.0.0"}')
    assert chart_of(basic_repo).access == RegistryAccess()


@pytest.mark.parametrize("written", ["ftp://example.com/charts", "oci:///charts", "oci://host with space/x"])
def test_a_url_that_is_not_one(basic_repo: Path, written: str) -> None:
    set_chart(basic_repo, f'{{repository: "{written}", name: cert-manager, version: "1.0.0"}}')
    with pytest.raises(InputError) as info:
        resolve_instances(load_repository(basic_repo), "dev")
    text = info.value.render()
    assert "is not an https://, http:// or oci:// URL" in text and "cert-manager.yaml" in text


def test_schema_refuses_unknown_repository_settings(basic_repo: Path) -> None:
    add_repository(basic_repo, "  - name: team\n    url: oci://r.example/c\n    plainHTTP: true\n")
    with pytest.raises(InputError) as info:
        load_repository(basic_repo)
    assert "plainHTTP" in info.value.render()
