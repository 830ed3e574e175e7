"""`terraform fmt`'s layout rules, as a test oracle that runs without a terraform binary.

`format_hcl` applies the two rules of hclwrite's formatter that shape scadafw's output:
indentation by an indent stack (one level per line that opens brackets on net,
`formatIndent`) and the alignment of `=` across consecutive single-line attributes
(`formatCells`). Emitted files must come out of it unchanged.
"""

from __future__ import annotations


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
