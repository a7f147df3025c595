"""Every form in which helm, Go templates and helmkit's own reports can print a secret value.

A value masked only as its exact text still shows when helm prints it escaped: ``toJson`` in a
template and then ``fail``, a Go ``%q`` in an error, a YAML dump, a URL, base64 in a Secret.
:func:`secret_forms` lists the text of each form, so a masker can look for every one:

- raw, and each line of a value with newlines (a YAML block scalar prints them one by one);
- base64: standard and URL-safe, with and without padding, and the lines of the standard form
  wrapped at 76 (MIME, ``base64`` CLI) and 64 (PEM) characters;
- JSON string bodies as Go's ``encoding/json`` writes them (``<``, ``>``, ``&`` as ``\\u003c``...)
  and as Python's ``json`` writes them (with and without ``ensure_ascii``);
- Go ``%q`` / ``strconv.Quote`` and ``%+q`` (ASCII only);
- YAML single-quoted (``''`` for ``'``) and double-quoted (PyYAML, with and without unicode);
- URL-encoded (``%XX``; space as ``%20`` and as ``+``);
- and, since an error message is often quoted again (helm 4 logs, a JSON report, ``%q`` of a
  whole message), the JSON and Go-quoted forms of each of the above.

Forms shorter than ``min_length`` are left out (they would mask ordinary text).
"""

from __future__ import annotations

import base64
import json
import urllib.parse

import yaml

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\", '"': '\\"'}
_GO_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "<": "\\u003c",
                    ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def secret_forms(value: str, *, min_length: int = 4) -> list[str]:
    """The distinct printed forms of ``value``, longest first."""
    first = _first_level(value)
    forms = set(first)
    for form in first:
        forms.update((json_body(form), json_body(form, ascii_only=True), go_json_body(form), go_quote(form)[1:-1]))
    return sorted((f for f in forms if len(f) >= min_length), key=lambda f: (-len(f), f))


def _first_level(value: str) -> set[str]:
    raw = value.encode("utf-8", errors="surrogatepass")
    forms = {value, json_body(value), json_body(value, ascii_only=True), go_json_body(value),
             go_json_body(value, legacy_controls=True), go_quote(value)[1:-1], go_quote(value, ascii_only=True)[1:-1],
             value.replace("'", "''"), yaml_double_quoted(value), yaml_double_quoted(value, unicode=False),
             urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value, safe="")}
    if "\n" in value or "\r" in value:
        forms.update(line for line in value.replace("\r", "\n").split("\n") if line.strip())
    std = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    forms.update((std, std.rstrip("="), url, url.rstrip("=")))
    for width in (76, 64):
        if len(std) > width:
            forms.update(std[i:i + width] for i in range(0, len(std), width))
    return forms


def json_body(value: str, *, ascii_only: bool = False) -> str:
    """The text between the quotes of ``json.dumps(value)``."""
    return json.dumps(value, ensure_ascii=ascii_only)[1:-1]


def go_json_body(value: str, *, legacy_controls: bool = False) -> str:
    """The text between the quotes of Go's ``json.Marshal(value)`` (HTML characters escaped).

    Go before 1.22 wrote ``\\b`` and ``\\f`` as ``\\u0008`` and ``\\u000c``; both are listed.
    """
    out: list[str] = []
    for char in value:
        if char in _GO_JSON_ESCAPES:
            out.append(_GO_JSON_ESCAPES[char])
        elif char in "\b\f" and not legacy_controls:
            out.append("\\b" if char == "\b" else "\\f")
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def go_quote(value: str, *, ascii_only: bool = False) -> str:
    """Go's ``strconv.Quote`` (``%q``), or ``strconv.QuoteToASCII`` (``%+q``) with ``ascii_only``."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif code < 0x80 and char.isprintable():
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not ascii_only and char.isprintable():
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def yaml_double_quoted(value: str, *, unicode: bool = True) -> str:
    """The text between the quotes of a double-quoted YAML scalar of ``value`` on one line."""
    text = yaml.safe_dump(value, default_style='"', width=1 << 30, allow_unicode=unicode)
    return text.strip().removesuffix("...").strip()[1:-1]
