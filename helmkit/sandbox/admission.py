"""What the API server does to an object before storing it: decoding, naming, defaults.

Request bodies are JSON, YAML (server-side apply) or Kubernetes protobuf (Secret, ConfigMap,
DeleteOptions). Defaults come from the table of :mod:`helmkit.sandbox.defaults`.
"""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

from helmkit.sandbox import defaulting, jsoncodec, protobuf
from helmkit.sandbox.catalog import ResourceType, builtin_type
from helmkit.sandbox.status import ApiError, bad_request, invalid

PROTOBUF = "application/vnd.kubernetes.protobuf"
Obj = dict[str, Any]


def decode_body(body: bytes, content_type: str) -> Any:
    """The request body as Python data."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if not body:
        return None
    if media == PROTOBUF:
        try:
            return protobuf.decode(body)
        except ValueError as exc:
            if "is not supported" in str(exc):
                raise ApiError(415, f"the body of the request was in an unknown format: {exc}; "
                                    "accepted media types include: application/json, application/yaml") from None
            raise bad_request(f"cannot decode protobuf body: {exc}") from None
    try:
        return jsoncodec.loads(body)
    except ValueError:
        pass
    if "yaml" in media:
        try:
            import yaml

            return yaml.safe_load(body.decode("utf-8"))
        except Exception as exc:
            raise bad_request(f"cannot decode YAML body: {exc}") from None
    raise bad_request("the body of the request was in an unknown format")


def check_object(rtype: ResourceType, obj: Any, namespace: str | None, name: str | None) -> Obj:
    """Check kind/apiVersion/namespace/name of a body against the URL; fill what is missing."""
    if not isinstance(obj, dict):
        raise bad_request("the body of the request must be an object")
    kind = obj.get("kind") or rtype.kind
    api_version = obj.get("apiVersion") or rtype.api_version
    if kind != rtype.kind or api_version != rtype.api_version:
        raise bad_request(f"the API version in the data ({api_version}) does not match the expected API version "
                          f"({rtype.api_version})" if api_version != rtype.api_version else
                          f"kind {kind} does not match the resource {rtype.plural} ({rtype.kind})")
    obj["kind"], obj["apiVersion"] = kind, api_version
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    if rtype.namespaced:
        body_ns = meta.get("namespace")
        if body_ns and namespace and body_ns != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        meta["namespace"] = namespace or body_ns or "default"
    else:
        meta.pop("namespace", None)
    if name is not None:
        if meta.get("name") and meta["name"] != name:
            raise bad_request("the name of the object does not match the name on the URL")
        meta["name"] = name
    if not meta.get("name"):
        prefix = meta.get("generateName")
        if not prefix:
            raise invalid(rtype.kind, "", "metadata.name: Required value: name or generateName is required",
                          rtype.group)
        alphabet = string.ascii_lowercase + string.digits
        meta["name"] = prefix + "".join(secrets.choice(alphabet) for _ in range(5))
    for key in ("labels", "annotations"):
        values = meta.get(key)
        if values is not None and (not isinstance(values, dict)
                                   or not all(isinstance(v, str) for v in values.values())):
            raise invalid(rtype.kind, meta["name"], f"metadata.{key}: Invalid value: values must be strings",
                          rtype.group)
    return obj


def apply_defaults(rtype: ResourceType, obj: Obj, old: Obj | None, crd: Obj | None = None) -> Obj:
    """The object with the defaults a Kubernetes 1.34 API server fills in (:mod:`helmkit.sandbox.defaults`).

    Runs on create, update, patch and server-side apply. A custom resource gets the ``default``
    values of its CustomResourceDefinition's schema (``crd``) for the version it is written in.
    """
    if builtin_type(rtype.api_version, rtype.kind) is None:
        for version in ((crd or {}).get("spec") or {}).get("versions") or ():
            if isinstance(version, dict) and version.get("name") == rtype.version:
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if isinstance(schema, dict):
                    defaulting.schema_defaults(obj, schema, top=True)
        return obj
    return defaulting.apply(rtype.group, rtype.version, rtype.kind, obj, old)


def new_uid(obj: Obj) -> None:
    """Give an object being created its uid (before defaulting: a Job's selector is made from it)."""
    obj["metadata"]["uid"] = str(uuid.uuid4())


def immutable_error(rtype: ResourceType, name: str, field: str) -> ApiError:
    return invalid(rtype.kind, name, f"{field}: Invalid value: field is immutable", rtype.group)
