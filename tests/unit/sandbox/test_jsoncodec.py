"""The sandbox's JSON encoder and object copy behave as json.dumps and copy.deepcopy do on API objects."""

from __future__ import annotations

import copy
import json
from typing import Any

from helmkit.sandbox.jsoncodec import dumps, json_copy, loads

OBJ: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "café", "labels": {"a": "1"}},
       "data": {"x": "line\nbreak \"quoted\" \u2603"}, "spec": {"n": [1, 2.5, True, None, {"deep": [[]]}]}}


def test_dumps_is_compact_json_that_decodes_to_the_same_object() -> None:
    assert json.loads(dumps(OBJ)) == OBJ
    assert b" " not in dumps({"a": [1, 2], "b": {"c": None}})
    huge = {"n": 2**70}  # beyond 64 bits: json encodes it, as the API server would
    assert dumps(huge) == json.dumps(huge, separators=(",", ":")).encode()


def test_json_copy_shares_nothing_mutable() -> None:
    copied = json_copy(OBJ)
    assert copied == OBJ
    copied["metadata"]["labels"]["a"] = "2"
    copied["spec"]["n"][4]["deep"][0].append(1)
    assert OBJ["metadata"]["labels"] == {"a": "1"} and OBJ["spec"]["n"][4] == {"deep": [[]]}
    odd = {"s": {1, 2}}  # not JSON: copied as deepcopy would
    assert json_copy(odd) == copy.deepcopy(odd) and json_copy(odd)["s"] is not odd["s"]


def test_loads_reads_what_json_loads_reads() -> None:
    for text in (b'{"a":1,"a":2}', b'{"n":123456789012345678901234567890}', b'{"x":NaN}', b'{"x":1e400}',
                 b'{"s":"\\ud800"}', b'\xef\xbb\xbf{"bom":1}', json.dumps(OBJ).encode()):
        expected = json.loads(text)
        found = loads(text)
        assert json.dumps(found) == json.dumps(expected), text
    for bad in (b"", b"{", b"kind: X"):
        try:
            json.loads(bad)
        except ValueError:
            pass
        else:  # pragma: no cover
            raise AssertionError(bad)
        try:
            loads(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} decoded")
