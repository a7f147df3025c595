"""A self-signed TLS certificate for the sandbox, made with the standard library only (ECDSA P-256).

kubectl and helm send a kubeconfig user's bearer token only over TLS, so every sandbox cluster
listens with TLS. :func:`generate` makes a key and a self-signed X.509 v3 certificate for
``127.0.0.1`` / ``localhost`` (subjectAltName, as Go's verifier requires) with a P-256 key
(fast to make in pure Python, cheap TLS handshakes); the kubeconfig carries the certificate as
its own certificate authority. The DER encoding below covers only
what such a certificate needs.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# NIST P-256 (secp256r1)
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
      0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)
Point = tuple[int, int] | None


@dataclass(frozen=True)
class Identity:
    """A certificate and its private key, both PEM."""

    certificate_pem: str
    key_pem: str


# ---- ECDSA P-256 ---------------------------------------------------------------------------------


def _add(p1: Point, p2: Point) -> Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % _P == 0:
        return None
    if p1 == p2:  # noqa: SIM108 - the two slope formulas read better apart
        slope = (3 * x1 * x1 + _A) * pow(2 * y1, -1, _P) % _P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (slope * slope - x1 - x2) % _P
    return x3, (slope * (x1 - x3) - y1) % _P


def _multiply(k: int, point: Point) -> Point:
    result: Point = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _sign(private: int, message: bytes) -> tuple[int, int]:
    z = int.from_bytes(hashlib.sha256(message).digest(), "big")
    while True:
        k = secrets.randbelow(_N - 1) + 1
        point = _multiply(k, _G)
        assert point is not None
        r = point[0] % _N
        s = pow(k, -1, _N) * (z + r * private) % _N
        if r and s:
            return r, s


# ---- DER ---------------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return _tlv(0x02, raw)


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        rest = part >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _bits(content: bytes) -> bytes:
    return _tlv(0x03, b"\x00" + content)


def _utc(moment: datetime) -> bytes:
    return _tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())


def _name(common_name: str) -> bytes:
    return _seq(_tlv(0x31, _seq(_oid("2.5.4.3"), _tlv(0x0C, common_name.encode()))))


def _pem(label: str, der: bytes) -> str:
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


ECDSA_WITH_SHA256 = _seq(_oid("1.2.840.10045.4.3.2"))
P256 = _oid("1.2.840.10045.3.1.7")


def generate(hosts: tuple[str, ...] = ("127.0.0.1", "localhost"), common_name: str = "helmkit-sandbox",
             days: int = 3650) -> Identity:
    """A new P-256 key and a self-signed certificate valid for ``hosts`` (IP addresses or DNS names)."""
    private = secrets.randbelow(_N - 1) + 1
    public = _multiply(private, _G)
    assert public is not None
    point = b"\x04" + public[0].to_bytes(32, "big") + public[1].to_bytes(32, "big")
    names = []
    for host in hosts:
        try:
            names.append(_tlv(0x87, ipaddress.ip_address(host).packed))
        except ValueError:
            names.append(_tlv(0x82, host.encode()))
    now = datetime.now(UTC)
    public_key = _seq(_seq(_oid("1.2.840.10045.2.1"), P256), _bits(point))
    extensions = _tlv(0xA3, _seq(
        _seq(_oid("2.5.29.19"), _tlv(0x01, b"\xff"), _tlv(0x04, _seq(_tlv(0x01, b"\xff")))),  # CA:TRUE
        # key usage: digitalSignature, keyCertSign
        _seq(_oid("2.5.29.15"), _tlv(0x01, b"\xff"), _tlv(0x04, _tlv(0x03, b"\x02\x84"))),
        _seq(_oid("2.5.29.37"), _tlv(0x04, _seq(_oid("1.3.6.1.5.5.7.3.1")))),  # serverAuth
        _seq(_oid("2.5.29.17"), _tlv(0x04, _seq(*names))),
    ))
    tbs = _seq(
        _tlv(0xA0, _int(2)),
        _int(secrets.randbits(63) + 1),
        ECDSA_WITH_SHA256,
        _name(common_name),
        _seq(_utc(now - timedelta(days=1)), _utc(now + timedelta(days=days))),
        _name(common_name),
        public_key,
        extensions,
    )
    r, s = _sign(private, tbs)
    certificate = _seq(tbs, ECDSA_WITH_SHA256, _bits(_seq(_int(r), _int(s))))
    key = _seq(_int(1), _tlv(0x04, private.to_bytes(32, "big")), _tlv(0xA0, P256), _tlv(0xA1, _bits(point)))
    return Identity(_pem("CERTIFICATE", certificate), _pem("EC PRIVATE KEY", key))


def server_context(identity: Identity) -> ssl.SSLContext:
    """A TLS server context for ``identity`` (the PEMs pass through a private temporary folder)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_alpn_protocols(["http/1.1"])
    with tempfile.TemporaryDirectory(prefix="helmkit-sandbox-tls-") as folder:
        cert, key = Path(folder) / "tls.crt", Path(folder) / "tls.key"
        cert.write_text(identity.certificate_pem)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(identity.key_pem)
        context.load_cert_chain(cert, key)
    return context
