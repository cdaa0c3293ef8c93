"""CPython's own regex parser and compiler (``re._parser``, ``re._constants``, ``re._compiler``, ``re._casefix``).

The one module that touches these private modules. Two callers read parse trees: the repair gate builds its
mojibake hint from ftfy's BADNESS_RE (:mod:`normkit.text.repairing`), and the boilerplate rules derive a
prefilter per pattern (``normkit_plugins._boilerplate_prefilter``); ``normkit.text`` re-exports the names below.
In the engine, not plugins/: repairing.py needs it too (its hint: ~1.8x a pipeline run); plugins see normkit.text.

Version guard: checked on CPython 3.10, 3.11, 3.12 and 3.13 (:data:`SRE_CHECKED_ON`); 3.11 moved the modules
from ``sre_parse``, ``sre_constants`` and ``sre_compile`` into ``re``. On import, the parse trees of a few
patterns are compared with the shapes the callers read; on a layout it does not know (a missing module or
name, another tree shape) the import fails with an ImportError that says what differs. There is no silent
fallback: the boilerplate rules' choice of engine depends on what these trees say, so guessing could change
the output. ``tests/test_regex_internals.py`` checks the guard and compares results with plain :mod:`re`.

Parse trees are CPython's (``SubPattern``: a sequence of ``(op, argument)`` items, ops in :data:`sre_ops`);
read them, never change them: callers cache them.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, cast

__all__ = ["SRE_CHECKED_ON", "SRE_EXTRA_CASES", "sre_compile", "sre_ops", "sre_parse", "sre_sequence"]

#: the CPython versions whose regex internals this module was checked against (major, minor).
SRE_CHECKED_ON: Final = ((3, 10), (3, 11), (3, 12), (3, 13))

#: the private modules, by where they live: in ``re`` since 3.11, top-level ``sre_*`` before (deprecated since).
_MODULES_NEW: Final = ("re._parser", "re._constants", "re._compiler", "re._casefix")
_MODULES_OLD: Final = ("sre_parse", "sre_constants", "sre_compile", "sre_compile")
#: where the extra case pairs are, in the fourth module of each list.
_EXTRA_CASES_NEW: Final = "_EXTRA_CASES"
_EXTRA_CASES_OLD: Final = "_ignorecase_fixes"

#: the opcodes and categories the callers compare parse items with (``is``).
_OPS_USED: Final = (
    *("ANY", "ASSERT", "ASSERT_NOT", "AT", "AT_END", "BRANCH", "CATEGORY", "IN", "LITERAL", "MAXREPEAT"),
    *("MAX_REPEAT", "MIN_REPEAT", "NEGATE", "NOT_LITERAL", "RANGE", "SUBPATTERN"),
    *("CATEGORY_DIGIT", "CATEGORY_SPACE", "CATEGORY_WORD", "CATEGORY_NOT_DIGIT", "CATEGORY_NOT_SPACE"),
    "CATEGORY_NOT_WORD",
)


def _load(new: bool) -> tuple[Any, Any, Any, Mapping[int, Any]]:
    """(parser, constants, compiler, extra case pairs) of this Python; ImportError naming what differs."""
    names, extra_name = (_MODULES_NEW, _EXTRA_CASES_NEW) if new else (_MODULES_OLD, _EXTRA_CASES_OLD)
    try:
        parser, ops, compiler, casefix = (importlib.import_module(name) for name in names)
        extra = getattr(casefix, extra_name)
    except (ImportError, AttributeError) as error:
        raise ImportError(_unknown(str(error))) from error
    problem = _layout_problem(parser, ops, compiler, extra)
    if problem:
        raise ImportError(_unknown(problem))
    return parser, ops, compiler, extra


def _unknown(detail: str) -> str:
    version = ".".join(map(str, sys.version_info[:3]))
    checked = ", ".join(f"{major}.{minor}" for major, minor in SRE_CHECKED_ON)
    return (
        f"normkit.text._sre: the regex internals of {sys.implementation.name} {version} do not have the layout "
        f"normkit reads (checked on CPython {checked}): {detail}. Update normkit/text/_sre.py for this Python."
    )


def _layout_problem(parser: Any, ops: Any, compiler: Any, extra: Any) -> str | None:
    """What differs from the layout the callers read, or None: the names, then the trees of a few patterns."""
    missing = [name for name in _OPS_USED if not hasattr(ops, name)]
    missing += [f"parser.{name}" for name in ("parse", "SubPattern", "State") if not hasattr(parser, name)]
    missing += [] if hasattr(compiler, "compile") else ["compiler.compile"]
    if missing:
        return f"missing {', '.join(missing)}"
    if not isinstance(extra, Mapping) or not all(isinstance(key, int) for key in extra):
        return "the extra case pairs are not a mapping of code points"
    try:
        return _shape_problem(parser, ops, compiler)
    except Exception as error:  # noqa: BLE001 - any surprise in the probe is a layout not known here
        return f"probing the parser raised {error!r}"


def _shape_problem(parser: Any, ops: Any, compiler: Any) -> str | None:
    """The parse trees of a few patterns, compared with the shapes the callers take apart."""
    a, b, c, d = ((ops.LITERAL, ord(char)) for char in "abcd")
    shapes: list[tuple[str, list[Any]]] = [
        ("ab|cd", [(ops.BRANCH, (None, [[a, b], [c, d]]))]),
        ("[^a-c\\d]", [(ops.IN, [(ops.NEGATE, None), (ops.RANGE, (97, 99)), (ops.CATEGORY, ops.CATEGORY_DIGIT)])]),
        ("a{2,5}b*?", [(ops.MAX_REPEAT, (2, 5, [a])), (ops.MIN_REPEAT, (0, ops.MAXREPEAT, [b]))]),
        ("(a)(?=b)", [(ops.SUBPATTERN, (1, 0, 0, [a])), (ops.ASSERT, (1, [b]))]),
        ("(?<!c).$", [(ops.ASSERT_NOT, (-1, [c])), (ops.ANY, None), (ops.AT, ops.AT_END)]),
    ]
    for pattern, shape in shapes:
        tree = parser.parse(pattern, 0)
        if _plain(tree, parser.SubPattern) != shape:
            return f"re parses {pattern!r} as {list(tree)!r}"
    tree = parser.parse("(a)b+", 0)
    if tree.getwidth()[0] != 2 or not compiler.compile(parser.SubPattern(tree.state, list(tree)), 0).match("abb"):
        return "a parse tree does not compile back to its pattern"
    return None


def _plain(tree: Any, subpattern: Any) -> Any:
    """A parse tree as lists and tuples, to compare with a written shape."""
    if isinstance(tree, (list, subpattern)):
        return [_plain(item, subpattern) for item in tree]
    if isinstance(tree, tuple):
        return tuple(_plain(item, subpattern) for item in tree)
    return tree


_parser, _ops, _compiler, _extra = _load(sys.version_info >= (3, 11))

#: the opcodes and categories of parse items (``sre_ops.LITERAL``, ``sre_ops.CATEGORY_DIGIT``...): ``re``'s
#: constants module, whose values are compared with ``is``. Untyped, as the module is.
sre_ops: Any = _ops
#: code point -> the other code points ``re`` matches it to under IGNORECASE beyond simple lowercase (sigma,
#: dotless i, long s...), keyed by lowercase.
SRE_EXTRA_CASES: Mapping[int, Any] = _extra


def sre_parse(pattern: str, flags: int = 0) -> Any:
    """The parse tree ``re`` compiles ``pattern`` from (re.error when it is invalid); read only."""
    return _parser.parse(pattern, flags)


def sre_sequence(items: Iterable[Any], like: Any = None) -> Any:
    """A parse tree of these items, with the group state of the tree ``like`` (a fresh one without it)."""
    return _parser.SubPattern(_parser.State() if like is None else like.state, list(items))


def sre_compile(tree: Any, flags: int = 0) -> re.Pattern[str]:
    """A parse tree compiled by ``re`` itself (not cached: callers keep the result)."""
    return cast("re.Pattern[str]", _compiler.compile(tree, flags))
