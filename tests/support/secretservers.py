"""Real secret back ends for tests: sops-encrypted files under age keys, and moto's Secrets Manager server.

:func:`age_key` makes an age identity offline (pyrage); :func:`sops_encrypt` encrypts a YAML
text with the pinned sops binary for one age recipient (sops needs no private key to encrypt).
:class:`MotoServer` runs ``moto_server`` as a real process on a free loopback port; tests
point boto3 at it with ``AWS_ENDPOINT_URL_SECRETS_MANAGER``, exactly as a user would.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyrage

from helmkit.adapters import tools
from tests.support.processes import stop_process

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class AgeKey:
    identity: str  # AGE-SECRET-KEY-1...
    recipient: str  # age1...

    def write(self, path: Path) -> Path:
        path.write_text(f"# public key: {self.recipient}\n{self.identity}\n")
        path.chmod(0o600)
        return path


def age_key() -> AgeKey:
    identity = pyrage.x25519.Identity.generate()
    return AgeKey(str(identity), str(identity.to_public()))


def sops_binary() -> Path:
    path = tools.find_sops(REPO)
    assert path is not None, "no sops: run `helmkit bootstrap`"
    return path


def sops_encrypt(plain_yaml: str, recipient: str, target: Path) -> Path:
    """``target`` (a .yaml file) holding ``plain_yaml`` encrypted by sops for ``recipient``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    plain = target.with_name(target.name + ".plain.yaml")
    plain.write_text(plain_yaml)
    try:
        out = subprocess.run([str(sops_binary()), "encrypt", "--age", recipient, "--input-type", "yaml",
                              "--output-type", "yaml", str(plain)], capture_output=True, text=True, check=False)
    finally:
        plain.unlink()
    assert out.returncode == 0, out.stderr
    target.write_text(out.stdout)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """``moto_server`` on 127.0.0.1:<free port>, started and stopped by the test (by its own pid)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        binary = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
        self.proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not _until_up(self.proc, self.url + "/moto-api/", "moto_server", tries=200):
            self.stop()
            raise RuntimeError("moto_server did not start")

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_SECRETS_MANAGER": self.url, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-1"}

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("secretsmanager", endpoint_url=self.url, region_name="eu-west-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=5).close()

    def stop(self) -> None:
        stop_process(self.proc)


def clear_aws_env() -> dict[str, str]:
    """The environment without any AWS setting of the machine (tests set their own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


class BaoServer:
    """A real Vault-API server: OpenBao's ``bao server -dev`` (KV v2 at ``secret/``) on a free loopback port.

    The pinned ``bao`` binary is installed into the tools folder on first use (the project's own
    pinned installer, as ``helmkit bootstrap`` installs helm).
    """

    TOKEN = "helmkit-test-root-token"

    def __init__(self) -> None:
        from helmkit.adapters.runner import Runner

        lock = tools.tools_dir(REPO).parent / "bao-install.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("w") as handle:  # test workers install it once, one at a time
            fcntl.flock(handle, fcntl.LOCK_EX)
            binary = tools.install(REPO, Runner(), (tools.VAULT_SERVER,))[0]
        self.home = tempfile.TemporaryDirectory(prefix="helmkit-bao-")  # dev mode writes ~/.vault-token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(binary), "server", "-dev", f"-dev-root-token-id={self.TOKEN}",
             f"-dev-listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"HOME": self.home.name, "PATH": "/usr/bin"})
        if not _until_up(self.proc, self.url + "/v1/sys/health", "bao server", tries=400):
            self.stop()
            raise RuntimeError("bao server did not start")

    def put(self, path: str, data: dict[str, object]) -> None:
        """Write a KV v2 version of ``secret/<path>``."""
        body = json.dumps({"data": data}).encode()
        req = urllib.request.Request(f"{self.url}/v1/secret/data/{path}", data=body, method="POST",
                                     headers={"X-Vault-Token": self.TOKEN, "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).close()

    def env(self) -> dict[str, str]:
        return {"VAULT_ADDR": self.url, "VAULT_TOKEN": self.TOKEN}

    def stop(self) -> None:
        stop_process(self.proc)
        self.home.cleanup()


def _until_up(proc: subprocess.Popen[bytes], url: str, what: str, *, tries: int) -> bool:
    """Poll ``url`` until it answers (False after ``tries``); a process that exits is an error."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return True
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited") from None
            time.sleep(0.05)
    return False


Server = TypeVar("Server", "MotoServer", "BaoServer")


def served(factory: Callable[[], Server]) -> Iterator[Server]:
    """A server for a fixture: started, yielded, stopped."""
    server = factory()
    try:
        yield server
    finally:
        server.stop()
