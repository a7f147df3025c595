"""A real OCI registry that needs a login (htpasswd) or serves TLS with its own CA: helmkit uses the
login `helm registry login` stored, never puts it in argv, output, the lock or the cache, and its
errors name the fix."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import pytest

from helmkit.actions.lock import LockOptions, lock
from helmkit.actions.template import TemplateOptions, template
from tests.e2e.conftest import StartClusters
from tests.e2e.test_oci_registry import helm_env, lock_error, oci_fleet
from tests.support.registry import login, push_chart, start_registry

pytestmark = pytest.mark.e2e
RELEASES = {"web": {"chart": {"repository": "team", "name": "web", "version": "^1"}, "namespace": "web"}}
PINNED = {"web": {"chart": {"repository": "team", "name": "web", "version": "1.1.0"}, "namespace": "web"}}


def files_under(root: Path) -> str:
    text = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                text.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(text)


def test_login_from_helms_registry_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         named_clusters: StartClusters, helm_bin: Path) -> None:
    password = "pw-" + secrets.token_hex(12)
    with start_registry(tmp_path / "registry", user="ci-user", password=password) as registry:
        pusher = helm_env(tmp_path / "pusher")
        login(helm_bin, pusher, registry)
        for version in ("1.0.0", "1.1.0"):
            push_chart(helm_bin, pusher, registry, tmp_path / "src", ("web", version))
        fleet = oci_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, registry=registry, releases=RELEASES)

        # No login yet: listing tags (a constraint) and helm's pull (an exact version) both say what to run.
        for releases in (RELEASES, PINNED):
            (fleet.root / "releases" / "web.yaml").write_text(json.dumps(releases["web"]))
            refused = lock_error(fleet)
            assert f"registry {registry.host} needs a login" in refused, refused
            assert f"run `helm registry login {registry.host}`" in refused

        # A wrong password in helm's registry config: refused, naming the config file.
        config = Path(os.environ["HELM_CONFIG_HOME"]) / "registry" / "config.json"
        config.parent.mkdir(parents=True)
        wrong = base64.b64encode(b"ci-user:not-the-password").decode()
        config.write_text(json.dumps({"auths": {registry.host: {"auth": wrong}}}))
        (fleet.root / "releases" / "web.yaml").write_text(json.dumps(RELEASES["web"]))
        refused = lock_error(fleet)
        assert f"registry {registry.host} refused the login helm keeps in {config}" in refused
        assert "not-the-password" not in refused and wrong not in refused

        config.unlink()
        login(helm_bin, dict(os.environ), registry)  # what a person runs: the fleet's own helm config
        locked = fleet.run(lock, LockOptions())
        assert locked.code == 0, locked.err
        assert "version: 1.1.0" in (fleet.root / "helmkit.lock").read_text()
        shown = fleet.run(template, TemplateOptions(env="day1"))
        assert shown.code == 0 and 'version: "1.1.0"' in shown.out, shown.err

        outputs = locked.out + locked.err + shown.out + shown.err
        encoded = base64.b64encode(f"ci-user:{password}".encode()).decode()
        for secret in (password, encoded):
            assert secret not in outputs
            assert all(secret not in arg for argv in fleet.argvs for arg in argv)
            assert secret not in (fleet.root / "helmkit.lock").read_text()
            assert secret not in files_under(fleet.root / ".helmkit")


def test_tls_registry_with_its_own_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      named_clusters: StartClusters, helm_bin: Path) -> None:
    with start_registry(tmp_path / "registry", tls=True) as registry:
        assert registry.ca_file is not None
        pusher = helm_env(tmp_path / "pusher")
        push_chart(helm_bin, pusher, registry, tmp_path / "src", ("web", "1.1.0"))
        fleet = oci_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, registry=registry, releases=RELEASES)
        for releases in (RELEASES, PINNED):  # our tag listing, then helm's pull
            (fleet.root / "releases" / "web.yaml").write_text(json.dumps(releases["web"]))
            untrusted = lock_error(fleet)
            assert "TLS certificate is not trusted" in untrusted and "`caFile`" in untrusted, untrusted

        ca = fleet.root / "certs" / "registry-ca.pem"
        ca.parent.mkdir()
        ca.write_bytes(registry.ca_file.read_bytes())
        settings = (fleet.root / "helmkit.yaml").read_text() + "    caFile: certs/registry-ca.pem\n"
        (fleet.root / "helmkit.yaml").write_text(settings)
        (fleet.root / "releases" / "web.yaml").write_text(json.dumps(RELEASES["web"]))
        locked = fleet.run(lock, LockOptions())
        assert locked.code == 0, locked.err
        pulls = [a for a in fleet.argvs if a[1:2] == ["pull"]]
        assert pulls and all(str(ca) in a for a in pulls[-1:])
        shown = fleet.run(template, TemplateOptions(env="day1"))
        assert shown.code == 0 and 'version: "1.1.0"' in shown.out, shown.err
