"""``normkit explain``: show a document as it arrived, each removed or changed line marked by its rule.

The input is rebuilt from the output text and the edits alone, whatever stages made them: the edits are
undone stage by stage, the last stage first (``doc.edits`` is in pipeline order, and each stage's line
numbers count lines of the text it received). A removed line goes back at its line number, a replaced
one gets its ``before`` back, a trimmed one its end. Informational edits (decode's, a title's: those
that are not :attr:`~normkit.Edit.replayable`) record no change to the lines and are passed over. So the
result is the text the first stage that changed the lines received.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from normkit.document import Document, Edit, end_pieces

if TYPE_CHECKING:  # rich only where a document is shown: annotating (in a worker) needs none of it
    from rich.console import Console
    from rich.text import Text

__all__ = ["ExplainedLine", "ReplayError", "explain", "render"]


class ReplayError(ValueError):
    """The edits do not fit the text they are undone on (the record was changed, or a stage misnumbered)."""


@dataclass(frozen=True)
class ExplainedLine:
    """One line of the rebuilt input: kept as it was (``edit`` is None), or removed or changed by ``edit``.

    A line several stages touched carries the last one's edit: a line trimmed by ``whitespace`` and then
    removed by ``boilerplate`` is shown removed, with the text it arrived with.
    """

    text: str
    edit: Edit | None = None

    @property
    def removed(self) -> bool:
        """Not in the output: its edit removed it."""
        return self.edit is not None and self.edit.action == "removed"

    @property
    def changed(self) -> bool:
        """In the output, changed: replaced, or trimmed."""
        return self.edit is not None and self.edit.action != "removed"


def explain(doc: Document) -> list[ExplainedLine]:
    """The lines the first stage that changed them received, rebuilt from ``doc.text`` and ``doc.edits``.

    Raises :class:`ReplayError` when the edits cannot be undone on the text.
    """
    lines = [ExplainedLine(line) for line in doc.text.split("\n")] if doc.text else []
    replayed = [edit for edit in doc.edits if edit.replayable]
    for stage, edits in reversed([(k, list(g)) for k, g in itertools.groupby(replayed, key=_stage)]):
        try:
            lines = _undo(lines, edits)
        except ReplayError as exc:
            if lines:
                raise ReplayError(f"{stage}: {exc}") from None
            try:  # an empty text has no lines, but a stage may have left one empty line
                lines = _undo([ExplainedLine("")], edits)
            except ReplayError:
                raise ReplayError(f"{stage}: {exc}") from None
    return lines


def _stage(edit: Edit) -> str:
    return edit.stage


def _undo(output: Sequence[ExplainedLine], edits: Sequence[Edit]) -> list[ExplainedLine]:
    """The lines one stage received, from the lines it left and its edits (numbered in what it received)."""
    rebuilt: list[ExplainedLine] = []
    taken = 0  # output lines used so far
    for edit in sorted(edits, key=_line):
        unchanged = _line(edit) - 1 - len(rebuilt)
        if unchanged < 0:
            raise ReplayError(f"the edits of line {edit.line} and the one before it overlap")
        rebuilt += _take(output, taken, unchanged, edit)
        taken += unchanged
        befores = edit.before.split("\n")
        if edit.action == "removed":
            rebuilt += [ExplainedLine(text, edit) for text in befores]
        elif edit.action == "replaced":
            afters = edit.after.split("\n")
            got = _take(output, taken, len(afters), edit)
            if [line.text for line in got] != afters:
                raise ReplayError(f"line {edit.line} is not what its {edit.rule} edit made of it")
            taken += len(afters)
            if len(got) == len(befores):  # line for line: each keeps what a later stage did to it
                rebuilt += [ExplainedLine(text, line.edit or edit) for text, line in zip(befores, got, strict=True)]
            else:
                rebuilt += [ExplainedLine(text, _fate(got, edit)) for text in befores]
        else:  # trimmed
            for end in befores:
                pieces = end_pieces(end)
                got = _take(output, taken, len(pieces), edit)
                taken += len(pieces)
                if not end:
                    rebuilt.append(got[0])
                    continue
                text = "".join(line.text + piece for line, piece in zip(got, pieces, strict=True))
                rebuilt.append(ExplainedLine(text, _fate(got, edit)))
    return rebuilt + list(output[taken:])


def _fate(became: Sequence[ExplainedLine], edit: Edit) -> Edit:
    """What happened to input lines that ``edit`` turned into a different number of lines (``became``): removed
    only when a later stage removed every line they became (then that removal); else ``edit``, changed. A
    block of which a later stage removed one line is not gone: calling it removed would lose the rest."""
    removals = [line.edit for line in became if line.removed]
    return removals[0] if removals and len(removals) == len(became) and removals[0] is not None else edit


def _take(output: Sequence[ExplainedLine], start: int, count: int, edit: Edit) -> Sequence[ExplainedLine]:
    if start + count > len(output):
        raise ReplayError(f"the {edit.action} edit of line {edit.line} ({edit.rule}) reaches past the text")
    return output[start : start + count]


def _line(edit: Edit) -> int:
    return edit.line or 0


def render(doc: Document, console: Console, *, only_removed: bool = False) -> None:
    """Print ``doc``: kept lines as they are, removed ones struck through and changed ones marked, with
    their rule in the margin; edits that do not fit the text get one line saying so, then the text as it is."""
    from rich.text import Text

    console.print(Text(f"# {doc.id}  {doc.title or ''}".rstrip(), style="bold"))
    try:
        lines = explain(doc)
    except ReplayError as exc:
        console.print(Text(f"cannot rebuild the input: {exc}", style="bold red"))
        lines = [ExplainedLine(line) for line in doc.text.split("\n")] if doc.text else []
    for number, line in enumerate(lines, start=1):
        if line.edit is None:
            if not only_removed:
                console.print(Text(f"{number:>5}   {_visible(line.text)}"), soft_wrap=True)
            continue
        if only_removed and (not line.removed or not line.text.strip()):
            continue
        console.print(_marked_line(number, line), soft_wrap=True)
    for flag in doc.flags:
        console.print(Text(f"flag {flag.code} ({flag.stage}): {flag.detail}", style="yellow"))


def _marked_line(number: int, line: ExplainedLine) -> Text:
    from rich.text import Text

    assert line.edit is not None
    why = f"{line.edit.stage}:{line.edit.rule}"
    if line.edit.plugin:
        why += f" [{line.edit.plugin}]"
    if line.removed:
        text = Text(f"{number:>5} - ", style="red")
        text.append(_visible(line.text), style="red strike")
    else:
        text = Text(f"{number:>5} ~ ", style="yellow")
        text.append(_visible(line.text), style="yellow")
    text.append(f"   <- {why}", style="cyan")
    return text


#: control characters and line separators, shown as escapes so they cannot move the cursor
_VISIBLE = {c: f"\\x{c:02x}" for c in (*range(0x09), *range(0x0B, 0x20), 0x7F, 0x85)}
_VISIBLE |= {0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _visible(text: str) -> str:
    return text.translate(_VISIBLE)
