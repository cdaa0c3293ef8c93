"""The version guard of normkit.text._sre, the one module that reads CPython's private regex modules.

The running Python must be one the module was checked on, with the names and tree shapes it reads; an
unknown layout must fail the import with a message that says so; and what the module gives (parse trees
compiled back, widths, case twins) must agree with plain :mod:`re` on invented patterns.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import normkit.text
from normkit.text import SRE_CHECKED_ON, SRE_EXTRA_CASES, sre_compile, sre_ops, sre_parse, sre_sequence

_sre: Any = importlib.import_module("normkit.text._sre")

ROOT = Path(__file__).resolve().parents[1]

#: invented patterns with their flags, and invented lines to try them on.
PATTERNS = [
    (r"(?:cookie|privacy) (?:policy|notice)", re.IGNORECASE),
    (r"(?=.{0,30}$)by [A-Z]\w+(?: [A-Z]\w+)*", 0),
    (r"\[\s*(?:reply|share)\s*\]", re.IGNORECASE),
    (r"(?<!x)\d{2,4}[-/]\d\d?", 0),
    (r"[^a-z\d]+?(?!q)[ab]c*", 0),
    (r"(straße|ΣΟΦΙΑ|kelvin)$", re.IGNORECASE),
    (r"(\w)\1", 0),
]
LINES = [
    "",
    "Cookie Policy",
    "read our PRIVACY notice",
    "by Ada Lovelace",
    "by ada lovelace, with a tail much longer than thirty characters",
    "[ Reply ]",
    "[share]",
    "x12/3",
    "on 2024-05 and 99/1",
    "!!?!ac",
    "### bccc",
    "STRASSE",
    "Straße",
    "σοφια",
    "ΣΟΦΙΣ",
    "\u212aelvin",
    "aab",
    "abc",
]


def test_this_python_is_one_the_module_was_checked_on() -> None:
    version = sys.version_info[:2]
    assert sys.implementation.name == "cpython", "normkit.text._sre was checked on CPython only"
    assert version in SRE_CHECKED_ON, (
        f"Python {version[0]}.{version[1]} is not in SRE_CHECKED_ON: check normkit/text/_sre.py against it, then add it"
    )


def test_the_internals_the_module_reads_exist_here() -> None:
    names = _sre._MODULES_NEW if sys.version_info >= (3, 11) else _sre._MODULES_OLD
    modules = [importlib.import_module(name) for name in names]
    extra = _sre._EXTRA_CASES_NEW if sys.version_info >= (3, 11) else _sre._EXTRA_CASES_OLD
    assert hasattr(modules[3], extra)
    assert [name for name in _sre._OPS_USED if not hasattr(modules[1], name)] == []
    assert _sre._layout_problem(modules[0], modules[1], modules[2], getattr(modules[3], extra)) is None
    assert sre_ops is modules[1]


def test_an_unknown_layout_fails_the_import_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sre, "_MODULES_NEW", ("re._parser", "re._no_such_constants", "re._compiler", "re._casefix"))
    monkeypatch.setattr(_sre, "_MODULES_OLD", _sre._MODULES_NEW)
    with pytest.raises(ImportError, match=r"checked on CPython 3\.10, 3\.11.*re\._no_such_constants"):
        _sre._load(sys.version_info >= (3, 11))


def test_a_missing_name_or_another_tree_shape_is_reported() -> None:
    parser, ops, compiler, extra = _sre._parser, _sre._ops, _sre._compiler, _sre._extra
    no_branch = SimpleNamespace(**{name: getattr(ops, name) for name in _sre._OPS_USED if name != "BRANCH"})
    assert _sre._layout_problem(parser, no_branch, compiler, extra) == "missing BRANCH"
    assert "not a mapping" in str(_sre._layout_problem(parser, ops, compiler, [(105, (305,))]))

    def parse_flattened(pattern: str, flags: int) -> Any:  # a parser whose trees look otherwise
        return parser.SubPattern(parser.State(), [(ops.LITERAL, ord(char)) for char in pattern])

    other = SimpleNamespace(parse=parse_flattened, SubPattern=parser.SubPattern, State=parser.State)
    assert str(_sre._layout_problem(other, ops, compiler, extra)).startswith("re parses 'ab|cd' as")
    broken = SimpleNamespace(parse=None, SubPattern=parser.SubPattern, State=parser.State)
    assert str(_sre._layout_problem(broken, ops, compiler, extra)).startswith("probing the parser raised")


@pytest.mark.parametrize(("pattern", "flags"), PATTERNS)
def test_parse_trees_compile_back_to_what_re_compiles(pattern: str, flags: int) -> None:
    plain = re.compile(pattern, flags)
    tree = sre_parse(pattern, flags)
    low, high = tree.getwidth()
    for compiled in (sre_compile(tree, flags), sre_compile(sre_sequence(list(tree), like=tree), flags)):
        for line in LINES:
            assert _spans(compiled, line) == _spans(plain, line), (pattern, line)
    for line in LINES:
        if plain.fullmatch(line) and "\\1" not in pattern:
            assert low <= len(line) <= high, (pattern, line)


def _spans(pattern: re.Pattern[str], line: str) -> tuple[Any, ...]:
    found = (pattern.match(line), pattern.fullmatch(line), pattern.search(line))
    return tuple(None if m is None else (m.span(), m.groups()) for m in found)


def test_a_sequence_of_items_measures_as_re_does() -> None:
    tree = sre_parse(r"(?=\w{2,9}$)ab")
    lookahead_body = list(tree[0][1][1])
    assert sre_sequence(lookahead_body[:-1]).getwidth() == (2, 9)
    assert tree[0][0] is sre_ops.ASSERT and lookahead_body[-1] == (sre_ops.AT, sre_ops.AT_END)


def test_the_extra_case_pairs_are_what_re_matches_case_insensitively() -> None:
    assert SRE_EXTRA_CASES, "re pairs sigma, dotless i, the long s... beyond simple lowercase"
    assert ord("a") not in SRE_EXTRA_CASES and ord("i") in SRE_EXTRA_CASES and ord("s") in SRE_EXTRA_CASES
    for code, twins in SRE_EXTRA_CASES.items():
        for twin in twins:
            assert re.fullmatch(re.escape(chr(code)), chr(twin), re.IGNORECASE), (code, twin)
            assert not re.fullmatch(re.escape(chr(code)), chr(twin)), (code, twin)


def test_normkit_text_reexports_the_guarded_names() -> None:
    for name in _sre.__all__:
        assert getattr(normkit.text, name) is getattr(_sre, name)
        assert name in normkit.text.__all__


#: what reaching the private regex modules looks like: by import, by import_module, by attribute.
_INTERNALS = re.compile(
    r"^\s*(?:import|from)\s+(?:sre_(?:parse|constants|compile)|re\._)"
    r"|import_module\(\s*[\"'](?:sre_|re\._)"
    r"|\bre\._(?:parser|constants|compiler|casefix)\b",
    re.MULTILINE,
)


def test_one_module_reaches_the_regex_internals_and_plugins_only_the_public_names() -> None:
    sources = [
        path for folder in ("normkit", "plugins", "benchmarks", "tests") for path in (ROOT / folder).rglob("*.py")
    ]
    allowed = {ROOT / "normkit" / "text" / "_sre.py", Path(__file__).resolve()}
    reaching = [
        str(path.relative_to(ROOT)) for path in sources if path not in allowed and _INTERNALS.search(path.read_text())
    ]
    assert reaching == []
    private = [path.name for path in (ROOT / "plugins").rglob("*.py") if "normkit.text._sre" in path.read_text()]
    assert private == []
