"""Function words per language, from jusText's stoplists: the one signal of running text any page carries.

Running text in any language is roughly 30-50% function words ("the", "of", "и", "في"); menus, credits,
bylines and link labels are close to none. jusText ships frequency-ordered stoplists for about 100
languages. They are read as package data, without importing jusText (its HTML code needs lxml's cleaner,
which normkit never uses). A document's language is the one whose most frequent words it uses most; only
that language's whole list is then loaded, so a worker holds a few lists, not a hundred.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

__all__ = ["VOTING_TOKENS", "detect_language", "stopwords"]

#: the most frequent words of each language that vote on a document's language.
PROBE_WORDS = 60
#: a document's language needs this many votes, else its function words are unknown (CJK, Thai, code).
MIN_VOTES = 3
#: tokens of a document that vote: enough to tell languages apart, few enough to stay cheap on big pages.
VOTING_TOKENS = 120


@lru_cache(maxsize=1)
def _folder() -> Path | None:
    spec = importlib.util.find_spec("justext")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "stoplists"
    return folder if folder.is_dir() else None


def _ranked(language: str) -> tuple[str, ...]:
    """The language's stoplist in jusText's order (most frequent first), case folded, without repeats."""
    folder = _folder()
    if folder is None:  # pragma: no cover
        return ()
    words = (folder / f"{language}.txt").read_text(encoding="utf-8").split()
    return tuple(dict.fromkeys(word.casefold() for word in words))


@lru_cache(maxsize=1)
def _probes() -> dict[str, tuple[str, ...]]:
    """Each frequent word and the languages it votes for. Only the head of each list is read (its first
    :data:`PROBE_WORDS` distinct words): a worker's first document pays 10 ms for this, not the 70 ms of
    reading every list whole."""
    folder = _folder()
    voters: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.txt")) if folder else ():
        for word in _head(path):
            voters.setdefault(word, []).append(path.stem)
    return {word: tuple(languages) for word, languages in voters.items()}


def _head(path: Path) -> list[str]:
    """The first :data:`PROBE_WORDS` distinct case-folded words of a stoplist, as :func:`_ranked` orders them."""
    seen: dict[str, None] = {}
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            for word in line.split():
                seen.setdefault(word.casefold(), None)
                if len(seen) == PROBE_WORDS:
                    return list(seen)
    return list(seen)


@cache
def _size(language: str) -> int:
    """A language's stoplist size, read when a tie asks for it."""
    return len(_ranked(language))


def detect_language(tokens: Iterable[str]) -> str | None:
    """The language whose frequent words the (case-folded) ``tokens`` hold most, or None when too few do.

    A tie goes to the language with the longer stoplist ("English" over "Simple_English", whose frequent
    words are the same): the longer list knows more of the language's function words.
    """
    probes = _probes()
    votes: dict[str, int] = {}
    for token, count in Counter(itertools.islice(tokens, VOTING_TOKENS)).items():  # Counter counts in C
        for language in probes.get(token, ()):
            votes[language] = votes.get(language, 0) + count
    if not votes:
        return None
    most = max(votes.values())
    tied = [name for name, count in votes.items() if count == most]
    language = max(tied, key=lambda name: (_size(name), name)) if len(tied) > 1 else tied[0]
    return language if most >= MIN_VOTES else None


@lru_cache(maxsize=16)
def stopwords(language: str | None) -> frozenset[str]:
    """The case-folded function words of ``language`` (empty for None)."""
    return frozenset(_ranked(language)) if language else frozenset()
