"""Kubeconfig loading, as kubectl does it, for one explicitly named context.

Where the kubeconfig comes from: ``--kubeconfig PATH`` if given, else ``$KUBECONFIG`` (a
``:``-separated list of files merged so that the first file defining a cluster, user or context
wins), else ``~/.kube/config``. Relative paths inside a file are relative to that file.

:func:`load_cluster_config` resolves one context into a :class:`ClusterConfig`: server URL, CA
(``certificate-authority[-data]``, ``insecure-skip-tls-verify``, ``tls-server-name``), client
certificate and key (files or ``-data``), bearer token or ``tokenFile``, basic auth, or an exec
credential plugin (:mod:`helmkit.adapters.execcredential`), and the proxy its requests go through
(the cluster's ``proxy-url``, else ``HTTPS_PROXY``/``NO_PROXY``: :mod:`helmkit.adapters.proxy`).
A user with a legacy ``auth-provider`` is refused, naming the exec plugin that replaces it. The current-context of
the file is never read for selection and never changed: every caller names its context.

Errors name the kubeconfig file(s) and the context, never a token, password or key.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helmkit.adapters.execcredential import EXEC_API_VERSIONS, Credentials, ExecCredentialPlugin
from helmkit.adapters.proxy import Proxy, ProxyConfigError, choose_proxy, env_proxy_passwords
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError, InputError, Location, Problem

__all__ = ["ClusterConfig", "Credentials", "ExecCredentialPlugin", "kubeconfig_paths", "load_cluster_config"]

MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024


@dataclass
class ClusterConfig:
    """Everything needed to talk to the API server of one kube context."""

    context: str
    cluster: str
    user: str
    server: str
    kubeconfig: str  # the file(s) it came from, for messages
    namespace: str | None = None
    ca_pem: bytes | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    static: Credentials = field(default_factory=Credentials)
    exec_plugin: ExecCredentialPlugin | None = None
    proxy: Proxy | None = None

    def credentials(self) -> Credentials:
        """Static credentials merged with the exec plugin's (plugin wins, as in kubectl)."""
        if self.exec_plugin is None:
            return self.static
        dynamic = self.exec_plugin.credentials()
        return Credentials(
            token=dynamic.token or self.static.token,
            username=self.static.username,
            password=self.static.password,
            client_cert_pem=dynamic.client_cert_pem or self.static.client_cert_pem,
            client_key_pem=dynamic.client_key_pem or self.static.client_key_pem,
        )

    def describe(self) -> str:
        return f"context {self.context!r} in {self.kubeconfig}"


def kubeconfig_paths(explicit: Path | None, env: Mapping[str, str] | None = None) -> list[Path]:
    """The files to merge, in precedence order (kubectl's rules)."""
    env = os.environ if env is None else env
    if explicit is not None:
        return [explicit]
    listed = env.get("KUBECONFIG", "")
    if listed:
        paths: list[Path] = []
        for part in listed.split(os.pathsep):
            if part and Path(part) not in paths:
                paths.append(Path(part))
        return paths
    home = env.get("HOME") or str(Path.home())
    return [Path(home) / ".kube" / "config"]


@dataclass
class _Entry:
    body: dict[str, Any]
    file: Path


@dataclass
class MergedKubeconfigs:
    files: list[Path]
    clusters: dict[str, _Entry] = field(default_factory=dict)
    users: dict[str, _Entry] = field(default_factory=dict)
    contexts: dict[str, _Entry] = field(default_factory=dict)

    @property
    def display(self) -> str:
        return ", ".join(str(f) for f in self.files)


def load_cluster_config(
    context: str,
    runner: Runner,
    *,
    kubeconfig: Path | None = None,
    env: Mapping[str, str] | None = None,
    files: KubeconfigFiles | None = None,
) -> ClusterConfig:
    """Resolve ``context`` of the merged kubeconfig into a :class:`ClusterConfig` (``files``: the run's
    parsed kubeconfig files, so a fleet's kubeconfig is parsed once, not once per cluster)."""
    if not context:
        raise InputError("no kube context given", hint="every cluster names its kube context explicitly")
    paths = kubeconfig_paths(kubeconfig, env)
    merged = merge_kubeconfigs(paths, explicit=kubeconfig is not None, read=files.read if files is not None else _read)
    where = f"context {context!r} in {merged.display}"
    ctx = merged.contexts.get(context)
    if ctx is None:
        known = ", ".join(sorted(merged.contexts)) or "none"
        raise ClusterError(f"kube context {context!r} not found in {merged.display}", hint=f"contexts there: {known}")
    ctx_body = ctx.body.get("context") or {}
    if not isinstance(ctx_body, dict):
        raise _bad(ctx.file, f"context {context!r} is not a mapping")
    cluster_name = str(ctx_body.get("cluster") or "")
    user_name = str(ctx_body.get("user") or "")
    cluster = merged.clusters.get(cluster_name)
    if cluster is None:
        raise ClusterError(f"{where}: cluster {cluster_name!r} is not defined")
    cl = cluster.body.get("cluster") or {}
    if not isinstance(cl, dict):
        raise _bad(cluster.file, f"cluster {cluster_name!r} is not a mapping")
    server = str(cl.get("server") or "")
    if not server.startswith(("https://", "http://")):
        raise ClusterError(f"{where}: cluster {cluster_name!r} has no https:// or http:// server URL")
    config = ClusterConfig(
        context=context,
        cluster=cluster_name,
        user=user_name,
        server=server.rstrip("/"),
        kubeconfig=str(ctx.file),
        namespace=str(ctx_body["namespace"]) if ctx_body.get("namespace") else None,
        ca_pem=_pem(cl, "certificate-authority", cluster.file, where),
        insecure_skip_tls_verify=bool(cl.get("insecure-skip-tls-verify", False)),
        tls_server_name=str(cl["tls-server-name"]) if cl.get("tls-server-name") else None,
    )
    proxy_env = os.environ if env is None else env
    try:
        config.proxy = choose_proxy(config.server, str(cl.get("proxy-url") or ""), proxy_env, cluster=cluster_name)
    except ProxyConfigError as exc:
        raise _bad(cluster.file, f"{exc}", hint="client-go accepts proxy-url http://, https:// or socks5:// "
                   "([user:password@]host[:port])") from None
    for password in [config.proxy.password if config.proxy else None, *env_proxy_passwords(proxy_env)]:
        if password:
            runner.masker.add(password)
    if user_name:
        user = merged.users.get(user_name)
        if user is None:
            raise ClusterError(f"{where}: user {user_name!r} is not defined")
        _apply_user(config, user, cl, runner, where)
    return config


def _apply_user(config: ClusterConfig, user: _Entry, cluster: dict[str, Any], runner: Runner, where: str) -> None:
    body = user.body.get("user") or {}
    if not isinstance(body, dict):
        raise _bad(user.file, f"user {config.user!r} is not a mapping")
    token = body.get("token")
    if not token and body.get("tokenFile"):
        token_path = relative_to_file(user.file, str(body["tokenFile"]))
        try:
            token = token_path.read_text().strip()
        except OSError as exc:
            raise ClusterError(f"{where}: cannot read tokenFile {token_path}: {exc.strerror}") from None
    for secret in (token, body.get("password")):
        if secret:
            runner.masker.add(str(secret))
    config.static = Credentials(
        token=str(token) if token else None,
        username=str(body["username"]) if body.get("username") else None,
        password=str(body["password"]) if body.get("password") else None,
        client_cert_pem=_pem(body, "client-certificate", user.file, where),
        client_key_pem=_pem(body, "client-key", user.file, where),
    )
    if bool(config.static.client_cert_pem) != bool(config.static.client_key_pem):
        raise ClusterError(f"{where}: user {config.user!r} has a client certificate without a key (or a key alone)")
    if body.get("auth-provider"):
        raise auth_provider_error(body["auth-provider"], config.user, user.file, f"context {config.context!r}")
    exec_body = body.get("exec")
    if exec_body:
        config.exec_plugin = _exec_plugin(exec_body, config, user.file, cluster, runner=runner, where=where)


AUTH_PROVIDER_FIXES = {
    "gcp": "gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin, then "
           "gcloud container clusters get-credentials CLUSTER writes the exec user)",
    "azure": "kubelogin (az aks install-cli, then kubelogin convert-kubeconfig -l azurecli)",
}


def auth_provider_error(provider: Any, user: str, file: Path, where: str) -> InputError:
    """A user with a legacy ``auth-provider``: which one, and the exec credential plugin that replaces it.

    client-go removed ``gcp`` and ``azure`` (helm and kubectl fail on them too); it keeps ``oidc``,
    which helmkit's reader does not implement: kubelogin (``kubectl oidc-login``) does the same as an
    exec plugin, for helm, kubectl and helmkit alike.
    """
    body: dict[str, Any] = provider if isinstance(provider, dict) else {}
    name = str(body.get("name") or "")
    settings: dict[str, Any] = body["config"] if isinstance(body.get("config"), dict) else {}
    if name == "oidc":
        issuer = str(settings.get("idp-issuer-url") or "ISSUER")
        client = str(settings.get("client-id") or "CLIENT_ID")
        state = "which helmkit's Kubernetes reader does not run (helm and kubectl still do)"
        fix = ("kubelogin: command: kubectl, args: [oidc-login, get-token, "
               f"--oidc-issuer-url={issuer}, --oidc-client-id={client}]")
    else:
        state = "which client-go removed (helm and kubectl refuse it too)" if name in AUTH_PROVIDER_FIXES else \
            "which helmkit's Kubernetes reader does not run"
        fix = AUTH_PROVIDER_FIXES.get(name, "the exec credential plugin your identity provider ships")
    return _bad(
        file,
        f"{where}: user {user!r} uses auth-provider {name or '(unnamed)'!r}, {state}",
        hint=f"switch the user to an exec credential plugin (user.exec, client.authentication.k8s.io/v1): {fix}",
    )


def _exec_plugin(
    body: Any, config: ClusterConfig, file: Path, cluster: dict[str, Any], *, runner: Runner, where: str
) -> ExecCredentialPlugin:
    if not isinstance(body, dict) or not body.get("command"):
        raise _bad(file, f"user {config.user!r}: exec needs a command")
    api_version = str(body.get("apiVersion") or "")
    if api_version not in EXEC_API_VERSIONS:
        raise _bad(
            file,
            f"user {config.user!r}: exec apiVersion {api_version!r} is not supported",
            hint="use " + " or ".join(EXEC_API_VERSIONS),
        )
    env: dict[str, str] = {}
    for item in body.get("env") or []:
        if isinstance(item, dict) and item.get("name"):
            env[str(item["name"])] = str(item.get("value", ""))
    cluster_info: dict[str, Any] = {
        "server": config.server,
        "insecure-skip-tls-verify": config.insecure_skip_tls_verify,
    }
    if config.ca_pem:
        cluster_info["certificate-authority-data"] = base64.b64encode(config.ca_pem).decode()
    if config.tls_server_name:
        cluster_info["tls-server-name"] = config.tls_server_name
    extensions = cluster.get("extensions") or []
    for ext in extensions if isinstance(extensions, list) else []:
        if isinstance(ext, dict) and ext.get("name") == "client.authentication.k8s.io/exec":
            cluster_info["config"] = ext.get("extension")
    return ExecCredentialPlugin(
        api_version=api_version,
        command=str(body["command"]),
        args=[str(a) for a in body.get("args") or []],
        env=env,
        base_dir=file.parent,
        cluster_info=cluster_info,
        provide_cluster_info=bool(body.get("provideClusterInfo", False)),
        runner=runner,
        describe=where,
        install_hint=str(body["installHint"]).strip() if body.get("installHint") else None,
    )


@dataclass
class KubeconfigFiles:
    """The kubeconfig files one run has parsed, by path, size and modification time (thread-safe)."""

    _docs: dict[tuple[str, int, int], dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, path: Path) -> dict[str, Any]:
        try:
            info = path.stat()
        except OSError:
            return _read(path)  # says why it cannot be read
        key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
        with self._lock:
            doc = self._docs.get(key)
        if doc is None:
            doc = _read(path)
            with self._lock:
                self._docs[key] = doc
        return doc


def merge_kubeconfigs(paths: list[Path], *, explicit: bool,
                      read: Callable[[Path], dict[str, Any]]) -> MergedKubeconfigs:
    """The kubeconfig files of ``paths`` merged as client-go merges them (the first one defining a name wins)."""
    merged = MergedKubeconfigs(files=[])
    for path in paths:
        if not path.exists():
            if explicit:
                raise InputError(Problem(f"kubeconfig {path} does not exist", hint="check --kubeconfig"))
            continue  # kubectl skips missing files of $KUBECONFIG
        doc = read(path)
        merged.files.append(path)
        for section, target in (("clusters", merged.clusters), ("users", merged.users), ("contexts", merged.contexts)):
            items = doc.get(section) or []
            if not isinstance(items, list):
                raise _bad(path, f"{section} must be a list")
            for item in items:
                if not isinstance(item, dict) or not item.get("name"):
                    raise _bad(path, f"an entry of {section} has no name")
                target.setdefault(str(item["name"]), _Entry(item, path))  # first file wins
    if not merged.files:
        raise ClusterError(
            "no kubeconfig found (looked at " + ", ".join(str(p) for p in paths) + ")",
            hint="pass --kubeconfig or set KUBECONFIG",
        )
    return merged


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's scanner: 10x faster


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KUBECONFIG_BYTES + 1)
    except OSError as exc:
        raise InputError(Problem(f"cannot read kubeconfig {path}: {exc.strerror}")) from None
    if len(raw) > MAX_KUBECONFIG_BYTES:
        raise _bad(path, "file is larger than 4 MiB")
    try:
        doc = yaml.load(raw.decode("utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 -- a safe loader
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(Problem(f"kubeconfig is not valid YAML: {getattr(exc, 'problem', exc)}",
                                 location=_loc(path, line))) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise _bad(path, "a kubeconfig must be a mapping")
    return doc


def _pem(body: Mapping[str, Any], key: str, file: Path, where: str) -> bytes | None:
    data = body.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise ClusterError(f"{where}: {key}-data is not valid base64 (in {file})") from None
    name = body.get(key)
    if name:
        path = relative_to_file(file, str(name))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ClusterError(f"{where}: cannot read {key} {path}: {exc.strerror}") from None
    return None


def relative_to_file(file: Path, name: str) -> Path:
    """A path of a kubeconfig file: relative ones are relative to that file's folder."""
    path = Path(name).expanduser()
    return path if path.is_absolute() else file.parent / path


def _loc(path: Path, line: int | None = None) -> Location:
    return Location(str(path), line)


def _bad(path: Path, message: str, *, hint: str | None = None) -> InputError:
    return InputError(Problem(f"invalid kubeconfig: {message}", location=_loc(path), hint=hint))
