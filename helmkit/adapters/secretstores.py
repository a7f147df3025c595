"""Where secret values are read: the environment, files, sops, AWS Secrets Manager and Vault KV.

One :class:`SecretStores` per run (it lives in the run's context). It reads each sops file
and each AWS secret once and keeps them in memory only, for this run; nothing it reads is
written anywhere. Every failure is a :class:`~helmkit.errors.HelmkitError` whose message and
hint name what to fix and never carry a value (the caller adds the reference and where it is
written).

- sops: the pinned sops binary (:func:`helmkit.adapters.tools.find_sops`) runs
  ``sops --decrypt --output-type json FILE`` through the run's :class:`Runner`; the clear text
  comes back on its stdout, never in a file. Keys are sops's own: ``SOPS_AGE_KEY_FILE``,
  ``SOPS_AGE_KEY``, ``~/.config/sops/age/keys.txt``, KMS/PGP as the file's metadata says.
- AWS Secrets Manager: boto3 (``pip install 'helmkit[aws]'``) with its standard credential
  chain and region (``AWS_REGION``/profile, or ``?region=``); ``AWS_ENDPOINT_URL`` and
  ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` point it elsewhere (boto3 reads them itself).
- Vault (or OpenBao) KV v1/v2: :mod:`helmkit.adapters.vault`, ``VAULT_ADDR`` and ``VAULT_TOKEN``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import find_sops
from helmkit.errors import HelmkitError, ToolError

MAX_SECRET_FILE = 1024 * 1024
SOPS_TIMEOUT = 120.0
AWS_TIMEOUT = 20

T = TypeVar("T")


@dataclass
class SecretStores:
    """Reads secrets for one run; thread-safe; caches sops documents and AWS secrets in memory."""

    repo_root: Path
    runner: Runner | Callable[[], Runner] = field(default_factory=Runner)  # a callable: the context's current one
    environ: Mapping[str, str] | None = None  # None: os.environ at the time of each read
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _sops: dict[str, Any] = field(default_factory=dict, repr=False)
    _aws: dict[tuple[str, str | None, str | None, str | None], str | HelmkitError] = field(
        default_factory=dict, repr=False)
    _clients: dict[str | None, Any] = field(default_factory=dict, repr=False)
    _vault: dict[tuple[str, ...], dict[str, Any] | HelmkitError] = field(default_factory=dict, repr=False)
    aws_calls: int = 0  # GetSecretValue calls made (tests and benchmarks read it)
    vault_reads: int = 0  # Vault secrets read

    @property
    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def env(self, name: str) -> str:
        value = self._env.get(name)
        if value is None:
            raise HelmkitError(f"environment variable {name} is not set", hint=f"export {name} before running helmkit")
        return value

    def file(self, target: str) -> str:
        path = Path(os.path.expanduser(target)).resolve()
        if path.is_relative_to(self.repo_root.resolve()):
            raise HelmkitError("the file is inside the repository",
                               hint="keep secret files outside the repository so they are never committed")
        try:
            if not path.is_file():
                raise FileNotFoundError
            if path.stat().st_size > MAX_SECRET_FILE:
                raise HelmkitError("the file is larger than 1 MiB")
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise HelmkitError("cannot read the file (missing, unreadable or not text)",
                               hint="check the path and its permissions") from None

    def sops(self, written: str) -> Any:
        """The decrypted document of the repository's sops file ``written`` (once per run)."""
        return self._once(self._sops, written, lambda: self._decrypt(written))

    def _decrypt(self, written: str) -> Any:
        root = self.repo_root.resolve()
        path = (root / written).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise HelmkitError("the sops file does not exist in the repository",
                               hint="paths are relative to the repository root")
        binary = find_sops(self.repo_root)
        if binary is None:
            raise HelmkitError("no sops binary to decrypt it",
                               hint="run `helmkit bootstrap` (installs the pinned sops), or put sops on PATH")
        try:
            runner = self.runner if isinstance(self.runner, Runner) else self.runner()
            result = runner.run([str(binary), "--decrypt", "--output-type", "json", str(path)],
                                     timeout=SOPS_TIMEOUT, what="sops --decrypt")
        except ToolError as exc:
            raise sops_error(exc.stderr or exc.message) from None
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise HelmkitError("sops printed something that is not JSON") from None

    def aws_secret(self, name: str, *, region: str | None = None, version_stage: str | None = None,
                   version_id: str | None = None) -> str:
        """The SecretString of ``name`` (one GetSecretValue per secret and version per run)."""
        key = (name, region, version_stage, version_id)
        return self._once(self._aws, key, lambda: self._get_secret_value(name, region, version_stage, version_id))

    def _get_secret_value(self, name: str, region: str | None, version_stage: str | None,
                          version_id: str | None) -> str:
        from helmkit.adapters.awssecrets import get_secret_string

        client = self._clients.get(region)
        if client is None:
            from helmkit.adapters.awssecrets import client_for

            client = self._clients[region] = client_for(region, self._env)
        self.aws_calls += 1
        return get_secret_string(client, name, version_stage=version_stage, version_id=version_id)


    def vault(self, path: str, *, address: str | None = None, namespace: str | None = None,
              version: str | None = None) -> dict[str, Any]:
        """The key/value map of the Vault KV secret ``path`` (one read per secret and version per run)."""
        from helmkit.adapters.vault import read_kv, vault_token

        env = self._env
        addr = address or env.get("VAULT_ADDR", "")
        space = namespace or env.get("VAULT_NAMESPACE") or None
        key = (addr, space or "", path, version or "")

        def read() -> dict[str, Any]:
            if not addr:
                raise HelmkitError("no Vault address", hint="set VAULT_ADDR or add ?address=https://... "
                                                           "to the reference")
            found = read_kv(addr, path, token=vault_token(env), namespace=space, version=version,
                            cacert=env.get("VAULT_CACERT") or None)
            self.vault_reads += 1
            return found

        return self._once(self._vault, key, read)

    def _once(self, known: dict[Any, Any], key: Any, fetch: Callable[[], T]) -> T:
        """``fetch()`` once per run and key (its failure too), under the store's lock."""
        with self._lock:
            cached = known.get(key)
            if cached is None:
                try:
                    cached = fetch()
                except HelmkitError as exc:
                    cached = exc
                known[key] = cached
        if isinstance(cached, HelmkitError):
            raise cached
        result: T = cached
        return result


def sops_error(stderr: str) -> HelmkitError:
    """One error for a failed ``sops --decrypt``, naming the cause and the fix (sops's own text is kept short)."""
    text = stderr.lower()
    if "mac mismatch" in text:
        return HelmkitError("sops refused the file: MAC mismatch (the file was changed after it was encrypted)",
                            hint="re-encrypt it with `sops edit`/`sops encrypt`, or restore it from git")
    if "did not match any of the recipients" in text or "incorrect identity" in text:
        return HelmkitError("sops could not decrypt the file: the age key given is not one it was encrypted for",
                            hint="set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to the right key, or add this key's "
                                 "recipient to the file with `sops updatekeys`")
    if "failed to load age identities" in text:
        return HelmkitError("sops could not decrypt the file: no age key found",
                            hint="set SOPS_AGE_KEY_FILE to the age key file (or SOPS_AGE_KEY to the key)")
    if "failed to get the data key" in text:
        return HelmkitError("sops could not decrypt the file: no key it can use (no data key could be recovered)",
                            hint="give sops the key the file was encrypted for: SOPS_AGE_KEY_FILE or SOPS_AGE_KEY "
                                 "for age, AWS/GCP/Azure credentials for KMS, a gpg key for PGP")
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "no message")
    return HelmkitError(f"sops could not decrypt the file: {first[:200]}",
                        hint="run `sops --decrypt FILE` by hand to see the whole error")
