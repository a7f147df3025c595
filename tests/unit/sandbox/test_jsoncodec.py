"""The sandbox's JSON encoder and object copy behave as json.dumps and copy.deepcopy do on API objects."""

from __future__ import annotations

import copy
import json
from typing import Any

from helmkit.sandbox.jsoncodec import dumps, json_copy

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
