"""HCL text to python-hcl2's plain document, fast, and once per content.

python-hcl2's own `loads` builds its lark parser with `propagate_positions=True` and keeps
comments, which the evaluators never use; this module builds the same grammar and transformer
without them (about a third less time; the tests hold the result equal to `hcl2.loads`). Each
result is also kept on disk, keyed by the SHA-256 of the text (with python-hcl2's version and
this reader's), in `$XDG_CACHE_HOME/scadafw/hcl` (default `~/.cache/scadafw/hcl`): a second
run over unchanged files parses nothing, and a changed byte is a new key, so what is judged is
always the bytes on disk. `SCADAFW_CACHE=off` turns the cache off; a cache that cannot be read
or written is skipped, never an error.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from generator import cache

READER_VERSION = "1"  # bump when what this module returns changes
_OPTIONS_KEY = "strip_string_quotes,no_explicit_blocks,no_comments"


@functools.cache
def _parser() -> Any:
    from hcl2 import parser as hcl2_parser  # noqa: PLC0415
    from hcl2.postlexer import PostLexer  # noqa: PLC0415
    from lark import Lark  # noqa: PLC0415

    # compiling the grammar takes about a second; lark keeps the result in the temporary
    # folder, keyed by the grammar, these options and lark's version
    return Lark.open("hcl2.lark", parser="lalr", rel_to=hcl2_parser.__file__,
                     propagate_positions=False, postlex=PostLexer(), cache=True)


@functools.cache
def _options() -> Any:
    from hcl2 import SerializationOptions  # noqa: PLC0415

    return SerializationOptions(strip_string_quotes=True, explicit_blocks=False,
                                with_comments=False)


def parse_uncached(text: str) -> dict[str, Any]:
    """The document python-hcl2 gives for `text` (strings unquoted, no block markers)."""
    from hcl2.transformer import RuleTransformer  # noqa: PLC0415

    tree = _parser().parse(text + "\n")
    rules = RuleTransformer(discard_new_line_or_comments=True).transform(tree)
    return dict(rules.serialize(options=_options()))


@functools.cache
def _cache_folder() -> Path | None:
    from importlib.metadata import version  # noqa: PLC0415

    return cache.cache_folder(f"hcl/hcl2-{version('python-hcl2')}-r{READER_VERSION}")


def parse_text(text: str) -> dict[str, Any]:
    """`parse_uncached(text)`, from the cache when the same text was parsed before."""
    folder = _cache_folder()
    if folder is None:
        return parse_uncached(text)
    key = hashlib.sha256(f"{_OPTIONS_KEY}\n{text}".encode()).hexdigest()
    found = cache.read(folder, key)
    if isinstance(found, dict):
        return found
    doc = parse_uncached(text)
    cache.write(folder, key, doc)
    return doc
