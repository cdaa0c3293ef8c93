"""The ``headline`` stage: the title is kept once, in ``title``; its repeats leave the body.

(Paragraphs a scraper doubled are the boilerplate stage's, which judges them after its own removals.)

Where the title comes from depends on what the document is. A record (JSON Lines) has a title field: its
title is a string, ``""`` when the record has none, and no line of its text is taken as a title. A plain
text file has no title field (``title`` is None): its first line may become the title, and exporters
without a title field (dolma, hf) put that line back, because it is told apart by its ``title-line`` edit.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from normkit import Document, Flag, Register, Stage, hookimpl, option, options_schema

from ._boilerplate_removal import Removal, remove_lines

__all__ = ["TITLE_LINE", "HeadlineStage", "fold"]

_FOLD = re.compile(r"[\W_]+", re.UNICODE)
#: ASCII bytes as :data:`_FOLD` sees them: letters and digits stay, everything else (``_`` too) is a space.
_ASCII_FOLD = bytes(b if chr(b).isalnum() else 32 for b in range(128)) + b" " * 128
#: what sites put between a headline and their name: "Title | Site", "Title - Site", "Title :: Site".
_SITE_SEPARATOR = re.compile(r"\s+(?:[|\-–—:·•»]|::)\s+")
#: the rule of the edit that moves a plain text's first line into ``title`` (read by the dolma and hf shapes,
#: in ``_record_shapes.py``).
TITLE_LINE = "title-line"


def fold(line: str) -> str:
    """Case, punctuation and whitespace folded away: "U.S. says -- Iran!" ~ "us says iran".

    "U.S." and "it's" fold to one word. ASCII text is folded on its bytes: a C pass, where the regex reads
    every character at a few hundred ns a word, and every line near the top of every document is folded.
    """
    text = line.casefold().replace(".", "").replace("'", "").replace("’", "")
    if text.isascii():
        return " ".join(text.encode().translate(_ASCII_FOLD).decode().split())
    return _FOLD.sub(" ", text).strip()


def title_keys(title: str, max_site_words: int, folded: str | None = None) -> set[str]:
    """The folded forms a repeat of ``title`` may take: whole, and without trailing "| Section | Site" parts.

    ``folded``: ``fold(title)``, when the caller has it already.
    """
    keys = {fold(title) if folded is None else folded}
    parts = _SITE_SEPARATOR.split(title)
    while len(parts) > 1 and len(parts[-1].split()) <= max_site_words:  # "Title | Section | Site"
        parts.pop()
        keys.add(fold(" ".join(parts)))
    return {key for key in keys if key}


def is_repeat(line: str, keys: set[str], max_site_words: int) -> bool:
    """``line`` is the title, maybe with a site name after it (with or without a separator)."""
    folded = fold(line)
    if not folded:
        return False
    if folded in keys or not keys.isdisjoint(title_keys(line, max_site_words, folded)):
        return True
    return any(
        len(key.split()) >= 3 and folded.startswith(key + " ") and len(folded[len(key) :].split()) <= max_site_words
        for key in keys
    )


@dataclass(frozen=True)
class HeadlineOptions:
    """``[stages.headline]``."""

    window: int = option(12, "Non-blank lines searched for repeats.", type="integer", minimum=1)
    max_site_words: int = option(5, "Words of a site name after a title.", type="integer", minimum=0)
    max_title_words: int = option(30, "A longer first line is not a title.", type="integer", minimum=1)
    title_from_first_line: bool = option(True, "Take the first line as the title.", type="boolean")


class HeadlineStage(Stage):
    name = "headline"
    options_schema = options_schema(HeadlineOptions)

    def process(self, doc: Document) -> Document:
        options = self.settings_for(doc, HeadlineOptions)
        lines = doc.text.split("\n")
        removals: dict[int, Removal] = {}
        # None: no title field (a plain text file), so the first line may be one; a record's "" is no title.
        title = self._title_line(lines, removals, options) if doc.title is None else doc.title.strip()
        if title:
            self._repeats(lines, title, removals, options)
        if not removals and title == (doc.title or ""):
            return doc
        kept, edits = remove_lines(self.name, lines, removals)
        text = "\n".join(kept)
        flags = [*doc.flags, *self._emptied(doc.text, text)]
        # a record keeps "" (it has no title), so a later headline run still takes no line from it
        new_title = title or (None if doc.title is None else "")
        return doc.with_edits(*edits, title=new_title, text=text, flags=flags)

    def _emptied(self, before: str, after: str) -> list[Flag]:
        """A flag when this stage left no text: a page that was only its title must not pass unnoticed."""
        if after.strip() or not before.strip():
            return []
        count = sum(1 for line in before.split("\n") if line.strip())
        return [Flag("title-only", self.name, f"empty text: all {count} non-blank lines were the title or its repeats")]

    def _title_line(self, lines: list[str], removals: dict[int, Removal], options: HeadlineOptions) -> str:
        """The first line, when it looks like a title (short, not a sentence), moved out of the text."""
        if not options.title_from_first_line:
            return ""
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            return ""
        line = lines[first].strip()
        if len(line.split()) > options.max_title_words:
            return ""
        if line.endswith(".") and not _repeated_below(lines[first + 1 :], line, options.window, options.max_site_words):
            return ""  # a sentence opening plain text, unless the page repeats it as its headline
        removals[first] = Removal(TITLE_LINE, detail="the first line, kept as the title")
        return line

    def _repeats(self, lines: list[str], title: str, removals: dict[int, Removal], options: HeadlineOptions) -> None:
        """Repeats of the title among the first ``window`` non-blank lines, also split over two lines."""
        keys = title_keys(title, options.max_site_words)
        # only the window is read: a long article's later lines are never stripped here
        candidates = list(
            itertools.islice((i for i, line in enumerate(lines) if line.strip() and i not in removals), options.window)
        )
        for position, i in enumerate(candidates):
            if is_repeat(lines[i], keys, options.max_site_words):
                removals[i] = Removal("title-repeat")
                continue
            if _is_sentence(lines[i]):
                break  # the article has started; a title quoted later is part of it
            following = candidates[position + 1] if position + 1 < len(candidates) else None
            if following == i + 1 and fold(lines[i] + " " + lines[i + 1]) in keys:
                removals[i] = removals[i + 1] = Removal("title-repeat", detail="the title split over two lines")


def _repeated_below(below: list[str], line: str, window: int, site_words: int) -> bool:
    """Whether ``line`` comes back among the first ``window`` non-blank lines ``below``, as a headline does.

    Headlines may end in a full stop ("... Why You Shouldn't Worry."); a sentence that opens plain text is
    not written twice, so a repeat tells the two apart.
    """
    keys = title_keys(line, site_words)
    following = itertools.islice((text for text in below if text.strip()), window)
    return any(is_repeat(text, keys, site_words) for text in following)


def _is_sentence(line: str) -> bool:
    text = line.strip()
    return len(text.split()) >= 8 and text[-1] in '.!?…"”’'


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(HeadlineStage)
