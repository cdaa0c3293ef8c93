"""Where a line sits in a scraped page: body paragraphs, and the head and tail around them.

Junk gathers before the first and after the last paragraph of an article, so a rule may be limited to those
edges; a page header (byline, date, share bar) or footer (share bar, comment form) near them moves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

__all__ = ["Layout", "ends_sentence", "is_credit_name"]

#: characters that end a sentence (Latin, CJK, Devanagari, Arabic, Urdu, Ethiopic; closing quotes and brackets
#: after a full stop).
TERMINAL = frozenset('.!?…"”’»)。！？」।॥؟۔።')
#: closing quotes and brackets, which end a sentence only after its own punctuation.
CLOSERS = '"”’»)」'


#: lowercase words a bare photo credit may hold between its names ("Studio Nine for The Weekly Review").
CREDIT_JOINERS = frozenset({"of", "for", "and", "&", "/", "|", "via", "de", "van", "von", "the", "-", "–"})
#: a bare credit names a person or an outlet: a few words, never a phrase.
MAX_CREDIT_WORDS = 5
MAX_CREDIT_CHARS = 60
#: lines of a page header or footer (byline, date, share buttons) sit this close together.
CLUSTER_GAP = 4
#: the classes of page-header lines; a header names its author or offers to share the page (an anchor).
HEADER_CLASSES = frozenset({"byline", "timestamp", "read-time", "share"})
HEADER_ANCHORS = frozenset({"byline", "share"})
#: the classes of page-footer lines; a footer offers to share the page or to comment on it.
FOOTER_CLASSES = frozenset({"share", "comments", "newsletter"})
FOOTER_ANCHORS = frozenset({"share", "comments"})


def ends_sentence(line: str) -> bool:
    """Whether ``line`` ends like a sentence, whatever its length (``Autumn is here!``).

    A closing quote or bracket ends a sentence only after a full stop or the like (``... said "no."``): a
    headline may end on a quoted phrase (``... Accuses Him of 'Security Violations'``) without being one.
    A line is prose when it ends like a sentence and has enough words (:func:`has_words`).
    """
    stripped = line.rstrip()
    end = stripped.rstrip(CLOSERS)
    return bool(end) and end[-1] in TERMINAL and (end == stripped or end[-1] not in CLOSERS)


def is_credit_name(line: str) -> bool:
    """A bare credit: a few capitalised words ("Berkeley Earth", "Jane Doe/Agency"), no digits, no punctuation.

    Only its shape is known, so callers trust it only under a caption; a quote's "— Author" is not one.
    """
    text = line.strip()
    tokens = text.split()
    if not tokens or len(tokens) > MAX_CREDIT_WORDS or len(text) > MAX_CREDIT_CHARS:
        return False
    if text[-1] in TERMINAL or text[-1] in ":,;" or text[0] in "—–-\"“‘'(" or any(ch.isdigit() for ch in text):
        return False
    return all(token[0].isupper() or token.casefold() in CREDIT_JOINERS for token in tokens)


@dataclass
class Layout:
    """The body span of a document: lines ``first`` to ``last`` are between its first and last paragraph.

    ``paragraph`` marks lines that are sentences no rule claims; a document without any is all edge.
    """

    lines: Sequence[str]
    #: each line stripped ("" for a blank one), and whether it ends like a sentence
    texts: Sequence[str]
    ends: Sequence[bool]
    paragraph: list[bool]
    claimed: list[bool]
    #: per line, the class of the rule that claimed it, or None
    classes: list[str | None] = field(default_factory=list)

    @cached_property
    def first(self) -> int:
        """The first paragraph of the body: the one after the page header, when the header ends early.

        A standfirst or a lead photo's caption, then a byline and a date, is not where the body starts, so
        edge rules still reach the byline; the sentences above it stay, as sentences. See :meth:`_cluster`.
        """
        paragraphs = [i for i, p in enumerate(self.paragraph) if p]
        if len(paragraphs) <= 2:  # with two paragraphs, which is the standfirst is anyone's guess
            return paragraphs[0] if paragraphs else len(self.lines)
        cluster = self._cluster(range(paragraphs[0] + 1, paragraphs[2]), HEADER_CLASSES, HEADER_ANCHORS)
        header = cluster[-1] if cluster else -1
        following = self._next_text(paragraphs[0], 1)
        if following is not None and self.claimed[following]:
            header = max(header, following)
        return next(p for p in paragraphs if p > header)

    @cached_property
    def last(self) -> int:
        """The last paragraph of the body: the one before a page footer (share bar, comment form) near the end.

        Sentences of the comment form or a sign-off under the share bar are not the article's end; they stay,
        as sentences, but the lines between them are footer. Without a footer, the one before the last when
        the last follows a claimed line (a sign-off).
        """
        paragraphs = [i for i, p in enumerate(self.paragraph) if p]
        if len(paragraphs) <= 2:
            return paragraphs[-1] if paragraphs else -1
        footer = self._cluster(range(paragraphs[-1] - 1, paragraphs[-3], -1), FOOTER_CLASSES, FOOTER_ANCHORS)
        if footer:
            return max(p for p in paragraphs if p < footer[-1])
        before = self._next_text(paragraphs[-1], -1)
        return paragraphs[-2] if before is not None and self.claimed[before] else paragraphs[-1]

    def _cluster(self, span: range, classes: frozenset[str], anchors: frozenset[str]) -> list[int]:
        """The last cluster of lines in ``span`` claimed by ``classes`` when it makes a page header or footer.

        A cluster holds at least two such lines, at most ``CLUSTER_GAP`` apart, one of them an anchor (a
        byline, a share bar): one dated line alone may be a quoted tweet's attribution, and dates in a list
        ("1 May", "2 June") name no author. Callers look only near the article's first or last paragraphs:
        further in, a share bar is inside the article, not around it.
        """
        cluster: list[int] = []
        for i in span:
            if i >= len(self.classes) or self.classes[i] not in classes:
                continue
            if cluster and abs(i - cluster[-1]) > CLUSTER_GAP:
                cluster = []
            cluster.append(i)
        found = len(cluster) >= 2 and any(self.classes[i] in anchors for i in cluster)
        return cluster if found else []

    def _next_text(self, index: int, step: int) -> int | None:
        i = index + step
        while 0 <= i < len(self.texts):
            if self.texts[i]:
                return i
            i += step
        return None

    def allows(self, where: str, index: int, first: int, last: int) -> bool:
        """Whether a rule limited to ``where`` may remove the line at ``index``."""
        if where == "head":
            return index < first
        if where == "edge":
            return index < first or index > last
        return True
