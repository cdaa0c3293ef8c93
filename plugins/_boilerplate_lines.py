"""What every page shows about each of its lines: length, function words, punctuation, shape and neighbours.

These are the facts the boilerplate stage judges a line by when no rule names it. None of them names a
site: a menu is short, capitalised and free of function words on any site, and a paragraph is long and
full of them in any language. :func:`line_facts` works them out once per document; :class:`LineModel`
weighs them (a logistic model fitted by ``benchmarks/fit_boilerplate.py`` with cross-validation grouped
by site, shipped as ``boilerplate_model.json``).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ._boilerplate_layout import ends_sentence
from ._boilerplate_stopwords import VOTING_TOKENS, detect_language, stopwords

__all__ = ["FEATURES", "LineFacts", "LineModel", "line_facts", "load_model"]

#: characters that separate the items of a menu or a link list written on one line.
_SEPARATORS = ("|", "»", "›", "·", "•", " / ", " - ", "::")
#: characters of the scripts written without spaces (:func:`_unspaced`) counted as one word.
CHARS_PER_WORD = 2
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")
#: a line of running text: this many words (or characters of scripts without spaces / 2) ...
PROSE_WORDS = 10
#: ... and this share of function words, where the language's are known.
PROSE_STOP = 0.2
#: a line that neither ends like a sentence nor holds one's end is running text from this many words, with
#: this share of function words.
LONG_UNENDED = 20
PROSE_STOP_UNENDED = 0.3
#: a sentence's end inside a line: its punctuation (and closing quotes), a space, more text.
_INNER_END = re.compile(r"(?:[.!?…।॥؟۔።][\"”’»)]*\s+|[。！？][」』”]*)\S")
#: a line with this share of capitalised words is a headline, whatever its length.
HEADLINE_CAPS = 0.7
#: a short line's share of function words before anyone asked for it (see :meth:`LineFacts.share`).
UNASKED = -1.0
#: a long line with at most this share of the page's function words may be in another language.
FOREIGN_STOP = 0.05
#: the share assumed for a line whose language has no stoplist: no evidence either way, so prose-like.
UNKNOWN_STOP = 0.3


def _unspaced(text: str) -> int:
    """Characters of scripts written without spaces between words: CJK (with its full-width punctuation),
    Hangul, Thai, Lao, Khmer and Myanmar."""
    return len(_UNSPACED.findall(text))


@dataclass(frozen=True)
class LineFacts:
    """Per line of a document (blank lines included, with zeros): what :data:`FEATURES` are made of."""

    texts: list[str]
    words: list[int]
    stop: list[float]
    ends: list[bool]
    #: whether each line reads as running text (see :func:`_running`)
    running: list[bool]
    language: str | None
    #: the lines that voted on the language
    voters: tuple[int, ...] = ()

    def share(self, index: int) -> float:
        """Line ``index``'s share of function words, counted the first time it is asked for on a short line."""
        if self.stop[index] == UNASKED:
            self.stop[index] = _share(self.texts[index].casefold().split(), self.words[index], stopwords(self.language))
        return self.stop[index]

    def nonblank(self) -> list[int]:
        return [i for i, text in enumerate(self.texts) if text]

    def subset(self, indices: Sequence[int]) -> LineFacts:
        """The facts of the lines at ``indices``, as :func:`line_facts` would find them for those lines alone.

        A line's facts are its own but for the language, which the longer lines vote on: when one of those
        is left out, the vote is taken again.
        """
        kept = set(indices)
        if not all(voter in kept for voter in self.voters):  # a voter left: the vote is taken again
            return line_facts([self.texts[i] for i in indices])
        position = {line: n for n, line in enumerate(indices)}
        return LineFacts(
            [self.texts[i] for i in indices],
            [self.words[i] for i in indices],
            [self.stop[i] for i in indices],
            [self.ends[i] for i in indices],
            [self.running[i] for i in indices],
            self.language,
            tuple(position[voter] for voter in self.voters),
        )


def _words(text: str, count: int) -> int:
    """Words (``count`` split by spaces), with text in scripts written without spaces counted as a word per
    :data:`CHARS_PER_WORD` characters, so that a paragraph there is never "short"."""
    if text.isascii() or max(text[:40]) < "\u0e00":  # both run in C: most lines have no such character
        return count
    unspaced = _unspaced(text)
    return max(count, unspaced // CHARS_PER_WORD) if unspaced * 3 > len(text) else count


def line_facts(lines: Sequence[str]) -> LineFacts:
    """The facts of every line of a document; its language is voted on by the words of its longer lines
    (so the vote does not change when short furniture lines go)."""
    texts = [line.strip() for line in lines]
    split = [text.split() for text in texts]
    words = [_words(text, len(tokens)) for text, tokens in zip(texts, split, strict=True)]
    # only lines long enough to be running text are folded here; a short one when its share is asked for
    folded = [text.casefold().split() if count >= PROSE_WORDS else [] for text, count in zip(texts, words, strict=True)]
    voters = _voters(folded, words)
    language = detect_language(itertools.chain.from_iterable(folded[i] for i in voters))
    stops = stopwords(language)
    stop = [
        _share(tokens, count, stops) if count >= PROSE_WORDS else UNASKED
        for tokens, count in zip(folded, words, strict=True)
    ]
    for i in _foreign(folded, words, stop, language):  # a paragraph in another language than the page's
        stop[i] = _share(folded[i], words[i], stopwords(detect_language(folded[i])))
    ends = [ends_sentence(text) if count else False for text, count in zip(texts, words, strict=True)]
    running = [_running(*facts) for facts in zip(texts, split, words, stop, ends, strict=True)]
    return LineFacts(texts, words, stop, ends, running, language, voters)


def _voters(folded: Sequence[list[str]], words: Sequence[int]) -> tuple[int, ...]:
    """The longer lines whose words vote on the language: those holding its first ``VOTING_TOKENS`` words.

    A subset of the lines that keeps all of them takes the same vote (see :meth:`LineFacts.subset`).
    """
    voters, tokens = [], 0
    for i, count in enumerate(words):
        if count >= PROSE_WORDS and tokens < VOTING_TOKENS:
            voters.append(i)
            tokens += len(folded[i])
    return tuple(voters)


def _foreign(
    folded: Sequence[list[str]], words: Sequence[int], stop: Sequence[float], language: str | None
) -> Iterator[int]:
    """Long lines with few of the page's function words that another language claims: a Russian article
    under an English cookie banner, a quotation in the original. They are judged by their own language."""
    for i, (tokens, count, share) in enumerate(zip(folded, words, stop, strict=True)):
        if count >= PROSE_WORDS and 0 <= share <= FOREIGN_STOP:
            own = detect_language(tokens)
            if own is not None and own != language:
                yield i


def _share(tokens: list[str], count: int, stops: frozenset[str]) -> float:
    """The share of function words among ``tokens`` (case folded, punctuation left on: a word with a comma
    after it rarely is one); unknown (no stoplist, or a script without spaces) is :data:`UNKNOWN_STOP`."""
    if not stops or not tokens or len(tokens) * 2 < count:
        return UNKNOWN_STOP
    return sum(map(stops.__contains__, tokens)) / len(tokens)


def _running(text: str, tokens: list[str], count: int, share: float, ends: bool) -> bool:
    """Running text: enough words, function words among them, and the marks of sentences: it ends like one,
    holds a sentence end inside (a post signed with a name, a quotation and its author), or is long and full
    of function words. Not a headline, which reads like a sentence but either has nearly every word
    capitalised or stops without a full stop: a teaser's label."""
    if count < PROSE_WORDS or share < PROSE_STOP:
        return False
    if not (ends or _INNER_END.search(text) or (count >= LONG_UNENDED and share >= PROSE_STOP_UNENDED)):
        return False
    return _capitalised(tokens) < HEADLINE_CAPS * len(tokens)


def _capitalised(tokens: list[str]) -> int:
    """How many of ``tokens`` are capitalised words ("Harbour", "U.S."; not "iPhone" or "NASA")."""
    return sum(map(str.istitle, tokens))


#: the features :class:`LineModel` weighs, in order; see :func:`features`.
FEATURES = (
    "words",
    "stop",
    "stop_x_words",
    "ends",
    "prose",
    "caps",
    "digits",
    "separators",
    "colon",
    "url",
    "glued",
    "prev_prose",
    "next_prose",
    "before_first",
    "after_last",
    "short_run",
    "edge_run",
    "run_words",
    "prose_above",
    "prose_below",
    "doc_prose",
    "position",
)


def features(facts: LineFacts, index: int, context: _Context) -> list[float]:
    """The feature vector of line ``index`` (non-blank), in :data:`FEATURES` order."""
    text = facts.texts[index]
    count = facts.words[index]
    share = facts.share(index)
    tokens = text.split()
    capitalised = _capitalised(tokens) / len(tokens) if tokens else 0.0
    digits = sum(map(str.isdigit, text)) / len(text)
    return [
        math.log1p(count),
        share,
        share * min(count, 30) / 30,
        float(facts.ends[index]),
        float(facts.running[index]),
        capitalised,
        digits,
        float(any(separator in text for separator in _SEPARATORS)),
        float(text.endswith(":")),
        float("http" in text or "www." in text or "@" in text),
        float(context.glued(index)),
        context.neighbour_prose(index, -1),
        context.neighbour_prose(index, 1),
        float(index < context.first),
        float(index > context.last),
        math.log1p(context.run[index]),
        float(index < context.first or index > context.last) * math.log1p(context.run[index]),
        math.log1p(context.run_words[index]),
        math.log1p(context.distance(index, -1)),
        math.log1p(context.distance(index, 1)),
        context.doc_prose,
        index / max(len(facts.texts) - 1, 1),
    ]


class _Context:
    """Where each line sits: its neighbours, the span of running text, and runs of lines that are not prose."""

    def __init__(self, facts: LineFacts) -> None:
        self.facts = facts
        self.filled = facts.nonblank()
        prose = [i for i in self.filled if facts.running[i]]
        self.first = prose[0] if prose else len(facts.texts)
        self.last = prose[-1] if prose else -1
        self.doc_prose = len(prose) / len(self.filled) if self.filled else 0.0
        self.order = {line: position for position, line in enumerate(self.filled)}
        self.run, self.run_words = self._runs()

    def _runs(self) -> tuple[list[int], list[float]]:
        """Per line, how many non-blank lines in a row (blank lines between allowed) are not prose, and
        their mean words."""
        run = [0] * len(self.facts.texts)
        mean = [0.0] * len(self.facts.texts)
        start = 0
        filled, prose, words = self.filled, self.facts.running, self.facts.words
        for position in range(len(filled) + 1):
            if position == len(filled) or prose[filled[position]]:
                members = filled[start:position]
                average = sum(words[m] for m in members) / len(members) if members else 0.0
                for member in members:
                    run[member] = position - start
                    mean[member] = average
                start = position + 1
        return run, mean

    def distance(self, index: int, step: int) -> int:
        """Non-blank lines from ``index`` to the nearest prose line in direction ``step`` (50 when none)."""
        position = self.order[index] + step
        steps = 1
        while 0 <= position < len(self.filled) and steps < 50:
            if self.facts.running[self.filled[position]]:
                return steps
            position += step
            steps += 1
        return 50

    def glued(self, index: int) -> bool:
        texts = self.facts.texts
        return (index > 0 and bool(texts[index - 1])) or (index + 1 < len(texts) and bool(texts[index + 1]))

    def neighbour_prose(self, index: int, step: int) -> float:
        position = self.order[index] + step
        if not 0 <= position < len(self.filled):
            return 0.0
        neighbour = self.filled[position]
        return float(self.facts.running[neighbour])


def feature_rows(facts: LineFacts, only: Callable[[int], bool] | None = None) -> dict[int, list[float]]:
    """The feature vector of every non-blank line (for which ``only`` holds, when given)."""
    context = _Context(facts)
    return {index: features(facts, index, context) for index in context.filled if only is None or only(index)}


@dataclass(frozen=True)
class LineModel:
    """A logistic model of "this line is boilerplate", with the threshold it acts above."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def probability(self, row: Sequence[float]) -> float:
        z = self.bias
        for value, weight, mean, scale in zip(row, self.weights, self.means, self.scales, strict=True):
            z += weight * (value - mean) / scale
        return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LineModel:
        if tuple(data["features"]) != FEATURES:
            raise ValueError("boilerplate_model.json was fitted for other features; rebuild it")
        return cls(tuple(data["weights"]), data["bias"], data["threshold"], tuple(data["means"]), tuple(data["scales"]))


@lru_cache(maxsize=1)
def load_model() -> LineModel:
    """The shipped model, read once per process."""
    text = resources.files("normkit_plugins").joinpath("boilerplate_model.json").read_text("utf-8")
    return LineModel.from_dict(json.loads(text))
