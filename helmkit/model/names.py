"""Names helmkit passes to helm and kubectl: checked before any process starts.

Release names and namespaces must be DNS-1123 (as Kubernetes and Helm require), which also
keeps them from being read as options (``--post-renderer=x``, ``-n``) or shell (``$(touch x)``).
"""

from __future__ import annotations

import re

RELEASE_MAX = 53
LABEL_MAX = 63
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")

DNS_HINT = "use lowercase letters, digits and '-', starting and ending with a letter or digit"


def release_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid Helm release name, or None."""
    if len(name) > RELEASE_MAX:
        return f"release name {name!r} is longer than {RELEASE_MAX} characters"
    if not _SUBDOMAIN.match(name):
        return f"release name {name!r} is not a DNS-1123 name"
    return None


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` is not a valid Kubernetes namespace, or None."""
    if len(namespace) > LABEL_MAX:
        return f"namespace {namespace!r} is longer than {LABEL_MAX} characters"
    if not _LABEL.match(namespace):
        return f"namespace {namespace!r} is not a DNS-1123 label"
    return None


def dns_label_problem(what: str, name: str) -> str | None:
    """Why ``name`` (an environment or cluster name) is not a DNS-1123 label, or None."""
    if len(name) > LABEL_MAX or not _LABEL.match(name):
        return f"{what} name {name!r} is not a DNS-1123 label (at most {LABEL_MAX} characters)"
    return None


def is_dns_subdomain(name: str) -> bool:
    """True when ``name`` is a DNS-1123 subdomain (which also makes it a safe file name)."""
    return len(name) <= 253 and bool(_SUBDOMAIN.match(name))


def label_problem(key: str, value: str) -> str | None:
    """Why ``key=value`` is not a valid label, or None."""
    if len(key) > 253 or not _LABEL_KEY.match(key):
        return f"label key {key!r} is not a valid Kubernetes label key"
    if len(value) > LABEL_MAX or not _LABEL_VALUE.match(value):
        return f"label {key}={value!r}: not a valid Kubernetes label value"
    return None
