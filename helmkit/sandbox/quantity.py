"""Resource quantities in the canonical form a Kubernetes API server stores them.

``cpu: 0.5`` is stored as ``500m``, ``cpu: 1`` (a JSON number) as ``"1"``, ``memory: 1024Mi`` as
``1Gi``, ``2000`` as ``2k``; resource lists are rounded up to milli units. The format follows the
suffix written: binary (``Ki``..``Ei``) stays binary while the amount is a whole number of bytes of
at least 1024, decimal exponents (``1e3``) stay exponents, everything else is decimal SI with the
largest suffix that keeps the number whole. A value that is not a quantity is returned unchanged
(a real server rejects it; the sandbox does not validate).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

_PATTERN = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|n|u|m|k|M|G|T|P|E|)$")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIX = {exp: suffix for suffix, exp in _BINARY.items()} | {0: ""}
_DECIMAL_SUFFIX = {exp: suffix for suffix, exp in _DECIMAL.items()}
_MILLI = Decimal("0.001")


def canonical(value: Any) -> Any:
    """The canonical text of a quantity (rounded up to milli units), or ``value`` itself."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    match = _PATTERN.match(str(value).strip())
    if match is None:
        return value
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return value
    suffix = match.group(2)
    if suffix in _BINARY:
        amount, form = number * (Decimal(2) ** _BINARY[suffix]), "binary"
    elif suffix[:1] in ("e", "E"):
        amount, form = number.scaleb(int(suffix[1:])), "exponent"
    else:
        amount, form = number.scaleb(_DECIMAL[suffix]), "decimal"
    amount = amount.quantize(_MILLI, rounding=ROUND_CEILING) if amount != amount.to_integral_value() else amount
    if form == "binary" and abs(amount) >= 1024 and amount == amount.to_integral_value():
        whole, exp = int(amount), 0
        while whole % 1024 == 0 and exp < 60:
            whole, exp = whole // 1024, exp + 10
        return f"{whole}{_BINARY_SUFFIX[exp]}"
    whole, exp = _decimal_parts(amount)
    if form == "exponent":
        return f"{whole}e{exp}" if exp else str(whole)
    return f"{whole}{_DECIMAL_SUFFIX[exp]}"


def _decimal_parts(amount: Decimal) -> tuple[int, int]:
    """``amount`` as a whole number times 10**exp, exp a multiple of 3 in [-9, 18], exp as large as possible."""
    exp = 0
    while amount != amount.to_integral_value() and exp > -9:
        amount, exp = amount * 1000, exp - 3
    whole = int(amount.to_integral_value(rounding=ROUND_CEILING))
    while whole and whole % 1000 == 0 and exp < 18:
        whole, exp = whole // 1000, exp + 3
    return whole, exp


def canonical_list(resources: Any) -> Any:
    """A resource list (``requests``, ``limits``, ``hard``) with every quantity canonical."""
    if not isinstance(resources, dict):
        return resources
    return {name: canonical(value) for name, value in resources.items()}
