"""HCL text: the one escaping filter for input strings, and checked identifiers.

The templates write HCL in `terraform fmt`'s layout; tests/hcl_layout.py holds them to it.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")  # one "?" per code point outside printable ASCII
_PLAIN = re.compile(r"[^\\\"\x00-\x1f\x7f${}%]*")


class HclText(str):
    """Text that is safe to place in HCL as it is: a quoted literal, a checked identifier, or
    the output of a template macro (itself made only of such text)."""

    __slots__ = ()


@lru_cache(maxsize=8192, typed=True)  # the same names and descriptions recur in every module
def hcl_string(value: object) -> HclText:
    r"""Quote `value` as an HCL string literal that reads back as exactly `value`.

    Besides quotes, backslashes and control characters, the `$` of `${` and the `%` of `%{` are
    written as `\u0024` / `\u0025`: an escape is a literal character to HCL's scanner, so
    nothing in the input can start an interpolation or directive. (The doubled forms `$${` and
    `%%{` mean the same to Terraform, but python-hcl2, which `verify` reads modules with,
    cannot parse an unbalanced `$${` or any `%%{`.)
    """
    text = str(value)
    if _PLAIN.fullmatch(text):  # the common case (names, descriptions): nothing to escape
        return HclText(f'"{text}"')
    out: list[str] = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif (ch in "$%" and nxt == "{") or ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return HclText('"' + "".join(out) + '"')


@lru_cache(maxsize=8192, typed=True)
def hcl_identifier(value: object) -> HclText:
    text = str(value)
    if not IDENTIFIER.fullmatch(text):
        raise ValueError(f"not an HCL identifier: {text!r}")
    return HclText(text)


@lru_cache(maxsize=8192, typed=True)
def hcl_label(value: object) -> HclText:
    """A block label: a checked identifier, quoted."""
    return hcl_string(hcl_identifier(value))


def hcl_comment(value: object) -> HclText:
    """Text for a `#` comment: one line, printable ASCII, so nothing can end the comment."""
    return HclText(_NOT_PRINTABLE.sub("?", str(value)))
