"""Protobuf bodies of typed kinds (``kubectl create deployment|service|job|role...``), decoded from the
field table: zero values of Go's always-written fields dropped, meaningful pointer zeros kept,
embedded structs inlined, int-or-string and quantities converted. Bodies are built by hand here."""

from __future__ import annotations

from helmkit.sandbox import protobuf


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def num(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def msg(number: int, body: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(body)) + body


def text(number: int, value: str) -> bytes:
    return msg(number, value.encode())


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return protobuf.MAGIC + msg(1, text(1, api_version) + text(2, kind)) + msg(2, raw)


def test_deployment_with_zero_replicas_and_always_written_empty_fields() -> None:
    probe = msg(1, msg(2, text(1, "/healthz") + msg(2, num(1, 1) + text(3, "http")))) + num(4, 0)  # handler inline
    container = (text(1, "web") + text(2, "nginx:1.27") + text(14, "") + msg(8, b"")
                 + msg(6, text(1, "http") + num(3, 80) + text(4, "")) + msg(11, probe))
    pod_spec = msg(2, container) + text(3, "") + num(11, 0)  # restartPolicy "", hostNetwork false
    template = msg(1, b"") + msg(2, pod_spec)
    spec = (num(1, 0) + msg(2, msg(1, text(1, "app") + text(2, "web"))) + msg(3, template)
            + msg(4, text(1, "RollingUpdate") + msg(2, msg(1, num(1, 0) + num(2, 0)))) + num(5, 0))
    body = envelope("apps/v1", "Deployment", msg(1, text(1, "web") + text(3, "shop")) + msg(2, spec))
    decoded = protobuf.decode(body)
    assert decoded["metadata"] == {"name": "web", "namespace": "shop"}
    spec_json = decoded["spec"]
    assert spec_json["replicas"] == 0  # a pointer: zero kept
    assert "minReadySeconds" not in spec_json  # not a pointer: Go always writes it, JSON omits it
    assert spec_json["selector"] == {"matchLabels": {"app": "web"}}
    assert spec_json["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}}
    (web,) = spec_json["template"]["spec"]["containers"]
    assert web == {"name": "web", "image": "nginx:1.27", "resources": {},
                   "ports": [{"name": "http", "containerPort": 80}],
                   "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}}}


def test_service_ports_quota_quantities_and_role_rules() -> None:
    port = text(1, "http") + text(2, "TCP") + num(3, 80) + msg(4, num(1, 0) + num(2, 8080)) + num(5, 30080)
    body = envelope("v1", "Service", msg(1, text(1, "s")) + msg(2, msg(1, port) + text(4, "NodePort")))
    service = protobuf.decode(body)
    assert service["spec"] == {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080,
                                          "nodePort": 30080}], "type": "NodePort"}
    hard = text(1, "requests.cpu") + msg(2, text(1, "500m"))
    quota = protobuf.decode(envelope("v1", "ResourceQuota", msg(1, text(1, "q")) + msg(2, msg(1, hard)
                                                                                       + text(2, "BestEffort"))))
    assert quota["spec"] == {"hard": {"requests.cpu": "500m"}, "scopes": ["BestEffort"]}
    rule = text(1, "get") + text(1, "list") + text(2, "") + text(3, "pods")
    role = protobuf.decode(envelope("rbac.authorization.k8s.io/v1", "Role", msg(1, text(1, "r")) + msg(2, rule)))
    assert role["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]
