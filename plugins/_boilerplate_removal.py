"""Removing whole lines with one Edit each, shared by the headline and boilerplate stages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from normkit import Edit

__all__ = ["Removal", "remove_lines", "surviving"]

BLANK_DETAIL = "blank line left by the removal of line {line}"


class Removal(NamedTuple):  # a tuple: documents make dozens, and a frozen dataclass is slow to build
    """Why one line goes: the rule that fired, the plugin that owns it, and an optional explanation.

    ``inside`` marks lines that sit inside articles (captions): they say nothing about where an article ends.
    ``thread`` marks the lines of a comment thread dropped as a whole, readers' paragraphs included.
    """

    rule: str
    plugin: str | None = None
    detail: str | None = None
    inside: bool = False
    thread: bool = False


def remove_lines(stage: str, lines: list[str], removals: Mapping[int, Removal]) -> tuple[list[str], list[Edit]]:
    """The kept lines and one edit per removed line (0-based ``removals`` keys, 1-based edit lines).

    Blank lines that removals would leave doubled, leading or trailing are removed too, each with the rule of
    the removal beside it, so the edits alone turn the input line list into the output line list.
    """
    if not removals:
        return lines, []
    gone = dict(removals)
    _drop_stranded_blanks(lines, gone)
    edits = [
        Edit(stage, "removed", why.rule, line=i + 1, before=lines[i], plugin=why.plugin, detail=why.detail)
        for i, why in sorted(gone.items())
    ]
    return [line for i, line in enumerate(lines) if i not in gone], edits


def surviving(lines: list[str], removals: Mapping[int, Removal]) -> list[int]:
    """The indices of the lines :func:`remove_lines` keeps, without building its edits."""
    gone = dict(removals)
    if gone:
        _drop_stranded_blanks(lines, gone)
    return [i for i in range(len(lines)) if i not in gone]


def _drop_stranded_blanks(lines: list[str], gone: dict[int, Removal]) -> None:
    """Mark blank lines that, once their neighbours are gone, would start, end or double a blank run."""
    last_blank = True  # the start of the text counts as a blank, so leading blanks are stranded
    removed: int | None = None  # the latest removal since the last kept line
    trailing: list[int] = []  # kept blanks after the last kept text line
    for i, line in enumerate(lines):
        if i in gone:
            removed = i
        elif line.strip():
            last_blank, removed, trailing = False, None, []
        elif last_blank and removed is not None:
            gone[i] = _blank_removal(gone, removed)
        else:
            last_blank, removed = True, None
            trailing.append(i)
    last = max(gone)
    for i in trailing:
        if i < last:
            gone[i] = _blank_removal(gone, last)


def _blank_removal(gone: Mapping[int, Removal], beside: int) -> Removal:
    why = gone[beside]
    return Removal(why.rule, why.plugin, BLANK_DETAIL.format(line=beside + 1))
