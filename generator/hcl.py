"""HCL text: the one escaping filter for input strings, and `terraform fmt`'s layout rules.

`format_hcl` applies the two rules of hclwrite's formatter that shape our output: indentation
by an indent stack (one level per line that opens brackets on net, `formatIndent`) and the
alignment of `=` across consecutive single-line attributes (`formatCells`). The templates
already space tokens the way fmt does; the fmt oracle test holds them to it.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PLAIN = re.compile(r"[^\\\"\x00-\x1f\x7f${}%]*")


class HclText(str):
    """Text that is safe to place in HCL as it is: a quoted literal, a checked identifier, or
    the output of a template macro (itself made only of such text)."""

    __slots__ = ()


@lru_cache(maxsize=8192)  # the same names and descriptions recur in every module
def hcl_string(value: object) -> HclText:
    """Quote `value` as an HCL string literal that reads back as exactly `value`.

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


@lru_cache(maxsize=8192)
def hcl_identifier(value: object) -> HclText:
    text = str(value)
    if not IDENTIFIER.fullmatch(text):
        raise ValueError(f"not an HCL identifier: {text!r}")
    return HclText(text)


@lru_cache(maxsize=8192)
def hcl_label(value: object) -> HclText:
    """A block label: a checked identifier, quoted."""
    return hcl_string(hcl_identifier(value))


def hcl_comment(value: object) -> HclText:
    """Text for a `#` comment: one line, printable ASCII, so nothing can end the comment."""
    text = str(value)
    return HclText("".join(ch if 0x20 <= ord(ch) < 0x7f else "?" for ch in text))


def _line_tokens(line: str) -> tuple[int, int | None]:
    """Scan one line: (net bracket change, index of the attribute '=' or None).

    Strings never span lines in our output (newlines are escaped), so a line scan is enough.
    """
    net = 0
    equals_at: int | None = None
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
        elif ch == "#" or line.startswith("//", i):
            break
        elif ch in "([{":
            net += 1
        elif ch in ")]}":
            net -= 1
        elif ch == "=" and equals_at is None:
            prev = line[i - 1] if i else ""
            nxt = line[i + 1] if i + 1 < n else ""
            if prev not in "=!<>" and nxt not in "=>":
                equals_at = i
        i += 1
    return net, equals_at


def format_hcl(text: str) -> str:
    """Re-indent and align `text` as `terraform fmt` would; one trailing newline."""
    lines = [ln.strip() for ln in text.strip("\n").split("\n")]
    out: list[str] = []
    assign_at: list[int | None] = []
    indents: list[int] = []
    for line in lines:
        if not line:
            out.append("")
            assign_at.append(None)
            continue
        net, eq = _line_tokens(line)
        if net < 0:
            closed = -net
            while closed > 0 and indents:
                if closed >= indents[-1]:
                    closed -= indents.pop()
                else:
                    indents[-1] -= closed
                    closed = 0
        indent = 2 * len(indents)
        out.append(" " * indent + line)
        if net > 0:
            indents.append(net)
        # an '=' whose right side opens a multi-line expression is not aligned (formatCells)
        if eq is not None and eq > 0 and _line_tokens(line[eq:])[0] == 0:
            assign_at.append(indent + eq)
        else:
            assign_at.append(None)
    return "\n".join(_align(out, assign_at)).rstrip("\n") + "\n"


def _align(lines: list[str], assign_at: list[int | None]) -> list[str]:
    result = list(lines)
    chain: list[int] = []

    def close() -> None:
        if not chain:
            return
        width = max(len(result[k][: assign_at[k]].rstrip()) for k in chain)
        for k in chain:
            at = assign_at[k]
            assert at is not None
            lead = result[k][:at].rstrip()
            result[k] = lead + " " * (width - len(lead) + 1) + result[k][at:]
        chain.clear()

    for k, at in enumerate(assign_at):
        if at is None:
            close()
        else:
            chain.append(k)
    close()
    return result
