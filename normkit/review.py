"""``normkit report``: one self-contained HTML page for a person deciding whether to trust a cleaning pass.

The page shows what ``report.json`` counts (per stage, rule, source, flag; the rejects grouped), a bounded
sample of the lines each rule removed, the lines learned per source, and a sample of documents before and
after with each removal marked and its stage and rule named.

Everything is bounded, so a run of a million pages gives a page a browser opens: the parts are streamed twice
(first to choose the sample and count flags, then to read the chosen records), never held in memory; charts
keep their largest bars; documents, lines and texts are cut with a note saying how much was left out.

An output folder is untrusted ground: files are read without following a symbolic link (one is named in a
one-line error instead), nothing is unpickled, every text reaches the page through Jinja2's autoescaping, and
a Content-Security-Policy lets the page load nothing and run only its own script.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson
import zstandard

from normkit.document import Document, Edit, Reject
from normkit.errors import NormkitError
from normkit.explain import ExplainedLine, ReplayError, explain
from normkit.writers import (
    atomic_file,
    disk_full_stops,
    entries,
    is_folder,
    is_regular_file,
    open_no_follow,
    refuse_links,
)

if TYPE_CHECKING:
    import jinja2

__all__ = ["DEFAULT_DOCUMENTS", "REVIEW_NAME", "write_review"]

#: documents shown by default: enough to judge a run, few enough for a page that opens quickly.
DEFAULT_DOCUMENTS = 200
#: the page's name in the output folder when no target is given.
REVIEW_NAME = "report.html"
#: removed lines shown per rule.
SAMPLES_PER_RULE = 20
#: documents chosen first for each rule so that every rule's samples can link to a document on the page.
DOCUMENTS_PER_RULE = 3
#: bars a chart shows; the rest are summed into one line.
MAX_BARS = 50
#: learned lines shown per source, and sources shown.
MAX_LEARNED_LINES = 100
MAX_LEARNED_SOURCES = 50
#: distinct reject messages counted (the rest are summed), shown, and examples kept per message.
MAX_REASONS_COUNTED = 1000
MAX_REASONS_SHOWN = 50
EXAMPLES_PER_REASON = 3
#: lines shown per document: past it, only changed lines and their context are, and then not all of them.
MAX_DOCUMENT_LINES = 400
CONTEXT_LINES = 2
#: characters shown of one line, of one sampled line, and of a document's output text.
MAX_LINE_CHARS = 2000
MAX_SAMPLE_CHARS = 300
MAX_OUTPUT_CHARS = 20000

REPORT_FILE = "report.json"
LEARNED_FILE = "learned-boilerplate.json"
_PART_FILE = re.compile(r"(?P<part>[^.].*)\.(?P<kind>records|rejects)\.jsonl")
#: a JSON Lines shard of the sharded layout (``00003.jsonl.zst``): the only shards whose records are read
_SHARD = re.compile(r"\d{5,}(?:_\d{3,})?(?:\.[a-z]+)?\.jsonl(?:\.zst|\.gz)?")
_UNSAFE_ANCHOR = re.compile(r"[^A-Za-z0-9_-]")
#: characters a reviewer could not see or that reorder text (controls, bidi overrides): shown as escapes.
_VISIBLE = {c: f"\\x{c:02x}" for c in (*range(0x09), *range(0x0B, 0x20), 0x7F, 0x85)}
_VISIBLE |= {c: f"\\u{c:04x}" for c in (0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_VISIBLE |= {0x0D: "\\r", 0xFEFF: "\\ufeff"}

Position = tuple[int, int]  # (part index, line number): a record's identity, whatever its id
SortKey = tuple[int, str, int, int]


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: a label, its count, and its width as a share of the largest bar."""

    label: str
    count: int
    width: float
    stage: str = ""


@dataclass(frozen=True)
class Chart:
    """Bars, largest first, bounded by :data:`MAX_BARS`; ``others`` and ``others_count`` say what was cut."""

    bars: list[Bar]
    others: int = 0
    others_count: int = 0


@dataclass
class Sample:
    """A line a rule removed, from a document the first pass saw; ``anchor``/``row`` are set when it is shown."""

    key: SortKey
    position: Position
    edit: Edit
    doc_id: str
    anchor: str | None = None
    row: str | None = None

    @property
    def text(self) -> str:
        return self.edit.before


@dataclass
class Row:
    """A line of a document's view: kept, removed, changed, or a ``gap`` standing for lines not shown."""

    kind: str
    text: str
    number: int | None = None
    edit: Edit | None = None
    ident: str = ""


@dataclass
class DocumentView:
    """A sampled document: the rebuilt input with each edit marked, and its output text."""

    anchor: str
    doc: Document
    rows: list[Row]
    replay_error: str | None
    removed: int
    changed: int


@dataclass
class ReasonGroup:
    """Rejects with the same reason: how many, and a few of their one-line messages."""

    reason: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass
class Survey:
    """What the first pass over the records learns: counts, the sample's positions, and each rule's samples."""

    limit: int
    records: int = 0
    #: records that carry edits: none when the format leaves them out (dolma, hf) or the run annotated
    edited: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    best: list[tuple[SortKey, Position]] = field(default_factory=list)
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)

    def add(self, position: Position, doc: Document) -> None:
        """Count ``doc`` and keep it as a candidate for the sample and for each rule's removed lines."""
        self.records += 1
        self.edited += bool(doc.edits)
        self.flags.update(flag.code for flag in doc.flags)
        key = (_rank(doc), _digest(doc.id), *position)
        self.best.append((key, position))
        if len(self.best) >= 2 * self.limit + 1:
            self.best = _bounded(self.best, self.limit)
        seen: set[tuple[str, str]] = set()
        for edit in doc.edits:
            rule = (edit.stage, edit.rule)
            if edit.replayable and edit.action == "removed" and edit.before.strip() and rule not in seen:
                seen.add(rule)  # one line per document and rule: the samples spread over documents
                found = self.samples.setdefault(rule, [])
                found.append(Sample(key, position, edit, doc.id))
                if len(found) >= 2 * SAMPLES_PER_RULE:
                    self.samples[rule] = _bounded(found, SAMPLES_PER_RULE)

    def finish(self) -> None:
        self.best = _bounded(self.best, self.limit)
        self.samples = {rule: _bounded(found, SAMPLES_PER_RULE) for rule, found in sorted(self.samples.items())}

    def chosen(self) -> dict[Position, SortKey]:
        """The sample: a few documents per rule (so its samples link to one), then the best ranked, in order."""
        chosen: dict[Position, SortKey] = {}
        for index in range(DOCUMENTS_PER_RULE):
            for found in self.samples.values():
                if index < len(found) and len(chosen) < self.limit:
                    chosen.setdefault(found[index].position, found[index].key)
        for key, position in self.best:
            if len(chosen) >= self.limit:
                break
            chosen.setdefault(position, key)
        return dict(sorted(chosen.items(), key=lambda item: item[1]))


def _bounded(items: list[Any], limit: int) -> list[Any]:
    """The ``limit`` smallest items (by their first field, a sort key): the list is cut when it doubles."""
    return sorted(items, key=lambda item: item.key if isinstance(item, Sample) else item[0])[:limit]


def _rank(doc: Document) -> int:
    """Documents with removed lines come first, then other changes, then flags: those are what to review."""
    replayable = [edit for edit in doc.edits if edit.replayable]
    if any(edit.action == "removed" and edit.before.strip() for edit in replayable):
        return 0
    if replayable:
        return 1
    return 2 if doc.flags else 3


def _digest(text: str) -> str:
    """A deterministic spread over documents (not the first ones of the first part)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def write_review(folder: Path | str, target: Path | str | None = None, documents: int = DEFAULT_DOCUMENTS) -> Path:
    """Write the review page of the output folder ``folder`` to ``target`` (``folder/report.html``); return it.

    Raises :class:`~normkit.errors.NormkitError` (one line) when ``folder`` holds no valid ``report.json``, or a
    file normkit reads there is a symbolic link.
    """
    folder = Path(folder)
    if documents < 0:
        raise NormkitError(f"--documents must be 0 or more, not {documents}")
    report = read_report(folder)
    records, rejects = part_files(folder)
    survey = Survey(documents)
    for position, doc in _documents(records):
        survey.add(position, doc)
    survey.finish()
    views = _views(records, survey)
    html = render_page(
        report=report,
        learned=_read_learned(folder),
        survey=survey,
        views=views,
        reasons=_reject_groups(rejects),
        folder=folder,
    )
    path = Path(target) if target is not None else folder / REVIEW_NAME
    with disk_full_stops(path), atomic_file(path) as stream:
        stream.write(html.encode("utf-8"))
    return path


def read_report(folder: Path) -> dict[str, Any]:
    """``report.json`` as a JSON object: what makes ``folder`` a normkit output folder."""
    if not folder.is_dir():
        raise NormkitError(f"{folder}: not a folder; give the output folder of a normkit run")
    data = _read_json(folder / REPORT_FILE)
    if data is None:
        raise NormkitError(f"{folder}: no {REPORT_FILE}, not the output folder of a finished normkit run")
    if not isinstance(data, dict) or not isinstance(data.get("documents"), dict):
        raise NormkitError(f"{folder / REPORT_FILE}: not a normkit report (no documents counts)")
    return data


def _read_json(path: Path) -> Any:
    """A JSON file read without following a link; None when it is missing."""
    try:
        with _open(path) as stream:
            data = stream.read()
    except FileNotFoundError:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise NormkitError(f"{path}: not valid JSON ({error})") from None


def _open(path: Path) -> IO[bytes]:
    """``path`` for reading (a ``.zst``/``.gz`` shard decompressed); a link is a one-line error naming it."""
    try:
        stream = open_no_follow(path)
        if path.suffix in (".zst", ".gz"):
            return _decompressed(stream, path.suffix)
        return stream
    except FileNotFoundError:
        raise
    except OSError as error:
        refuse_links(path)  # ELOOP: name the link
        raise NormkitError(f"{path}: cannot read it: {error.strerror or error}") from error


def _decompressed(stream: IO[bytes], suffix: str) -> IO[bytes]:
    if suffix == ".gz":
        return gzip.GzipFile(fileobj=stream)  # type: ignore[return-value]  # a binary stream
    reader = zstandard.ZstdDecompressor().stream_reader(stream, closefd=True)
    return io.BufferedReader(reader)  # zstandard's reader is a raw stream


def _read_learned(folder: Path) -> dict[str, Any] | str | None:
    """``learned-boilerplate.json``, None when the run learned nothing, or why it cannot be shown.

    Unlike the report it is not needed for the rest of the page, so a broken one is a note there, not an error.
    """
    try:
        data = _read_json(folder / LEARNED_FILE)
    except NormkitError as error:
        if (folder / LEARNED_FILE).is_symlink():
            raise
        return str(error)
    if data is not None and not (isinstance(data, dict) and isinstance(data.get("sources"), dict)):
        return f"{folder / LEARNED_FILE}: not a learned-boilerplate file (no sources)"
    return data


def part_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The committed parts' records and rejects files, in part order.

    A part is committed when its ``.done.json`` marker is there (written last); a killed run's other files are
    passed over. A link in the work folder, the parts folder or a part's files is an error naming it.
    """
    work = folder / ".normkit"
    parts = work / "parts"
    refuse_links(work, parts)
    if not is_folder(parts):
        return [], []
    found: dict[str, list[Path]] = {"records": [], "rejects": []}
    for path in entries(parts):
        match = _PART_FILE.fullmatch(path.name)
        if match is None:
            continue
        marker = parts / f"{match['part']}.done.json"
        refuse_links(path, marker)
        if is_regular_file(marker):
            found[match["kind"]].append(path)
            if match["kind"] == "rejects":
                found["records"] += _shards_of(marker, folder)
    return sorted(found["records"]), found["rejects"]


def _shards_of(marker: Path, folder: Path) -> list[Path]:
    """The JSON Lines shards a part's records became (``--shards``: the part's own records file is gone)."""
    with _open(marker) as stream:
        data = orjson.loads(stream.read(1 << 20))
    files = data.get("files") if isinstance(data, dict) else None
    output = files.get("output") if isinstance(files, dict) else None
    names = [entry.get("name") for entry in output or () if isinstance(entry, dict)]
    shards = [folder / "documents" / name for name in names if isinstance(name, str) and _SHARD.fullmatch(name)]
    refuse_links(*shards)
    return shards


def _rows_of(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of a part file, one a line, with their line numbers; streamed."""
    with _open(path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise NormkitError(f"{path}:{number}: not a JSON record ({error})") from None
            if not isinstance(row, dict):
                raise NormkitError(f"{path}:{number}: not a JSON object")
            yield number, row


def _documents(
    paths: Sequence[Path], wanted: Mapping[Position, SortKey] | None = None
) -> Iterator[tuple[Position, Document]]:
    """The records of ``paths`` as documents (only those at ``wanted`` positions, when given)."""
    for index, path in enumerate(paths):
        for number, row in _rows_of(path):
            if wanted is None or (index, number) in wanted:
                yield (index, number), _parse(path, number, row, Document.from_dict)


def _parse(path: Path, number: int, row: dict[str, Any], parse: Callable[[dict[str, Any]], Any]) -> Any:
    try:
        return parse(row)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise NormkitError(f"{path}:{number}: not a normkit record ({type(error).__name__}: {error})") from None


def _views(records: Sequence[Path], survey: Survey) -> list[DocumentView]:
    """The second pass: the chosen documents' views, in sample order, and the samples' links into them."""
    chosen = survey.chosen()
    found = dict(_documents(records, chosen))
    anchors: set[str] = set()
    views: dict[Position, DocumentView] = {}
    for position in chosen:
        if position in found:
            views[position] = _view(found[position], _anchor(found[position].id, anchors))
    for samples in survey.samples.values():
        for sample in samples:
            view = views.get(sample.position)
            if view is not None:
                sample.anchor = view.anchor
                sample.row = next((row.ident for row in view.rows if row.edit == sample.edit), None)
    return list(views.values())


def _anchor(doc_id: str, taken: set[str]) -> str:
    """``doc-<id>``, made safe for an HTML id and a URL fragment, and unique on the page."""
    safe = _UNSAFE_ANCHOR.sub("_", doc_id)[:64]
    base = f"doc-{safe}" if safe == doc_id else f"doc-{safe}-{_digest(doc_id)[:8]}"
    anchor, copy = base, 1
    while anchor in taken:
        copy += 1
        anchor = f"{base}-{copy}"
    taken.add(anchor)
    return anchor


def _view(doc: Document, anchor: str) -> DocumentView:
    """``doc`` as the input its first changing stage received, each edit on its line; or, when the edits cannot
    be replayed on the text, the output text alone and why."""
    error = None
    try:
        lines = explain(doc)
    except ReplayError as exc:
        error = str(exc)
        lines = [ExplainedLine(line) for line in doc.text.split("\n")] if doc.text else []
    rows = _rows(lines, anchor)
    removed = sum(line.removed for line in lines)
    changed = sum(line.changed for line in lines)
    return DocumentView(anchor, doc, rows, error, removed, changed)


def _rows(lines: Sequence[ExplainedLine], anchor: str) -> list[Row]:
    """The rows of a view: every line of a short document; of a long one, the edited lines with a little
    context, up to :data:`MAX_DOCUMENT_LINES`, and a gap row for each run left out."""
    shown = _shown_lines(lines)
    rows: list[Row] = []
    last = -1
    for index in shown:
        if index > last + 1:
            rows.append(Row("gap", f"{index - last - 1} unchanged lines not shown"))
        line = lines[index]
        kind = "removed" if line.removed else "changed" if line.changed else "kept"
        rows.append(Row(kind, line.text, index + 1, line.edit, f"{anchor}-L{index + 1}"))
        last = index
    if last < len(lines) - 1:
        left = lines[last + 1 :]
        edited = sum(line.edit is not None for line in left)
        rows.append(Row("gap", f"{len(left)} more lines not shown ({edited} of them edited)"))
    return rows


def _shown_lines(lines: Sequence[ExplainedLine]) -> list[int]:
    if len(lines) <= MAX_DOCUMENT_LINES:
        return list(range(len(lines)))
    wanted: set[int] = set()
    for index, line in enumerate(lines):
        if line.edit is not None:
            wanted.update(range(max(0, index - CONTEXT_LINES), min(len(lines), index + CONTEXT_LINES + 1)))
            if len(wanted) >= MAX_DOCUMENT_LINES:
                break
    return sorted(wanted)[:MAX_DOCUMENT_LINES]


def _reject_groups(paths: Sequence[Path]) -> list[ReasonGroup]:
    """The rejects grouped by reason, most frequent first; bounded in reasons counted and examples kept."""
    groups: dict[str, ReasonGroup] = {}
    other = ReasonGroup("(other reasons, not told apart)", 0)
    for path in paths:
        for number, row in _rows_of(path):
            reject: Reject = _parse(path, number, row, Reject.from_dict)
            group = groups.get(reject.reason)
            if group is None and len(groups) < MAX_REASONS_COUNTED:
                group = groups[reject.reason] = ReasonGroup(reject.reason, 0)
            group = group or other
            group.count += 1
            if len(group.examples) < EXAMPLES_PER_REASON:
                group.examples.append(reject.message())
    ordered = sorted(groups.values(), key=lambda group: (-group.count, group.reason))
    shown = ordered[:MAX_REASONS_SHOWN]
    other.count += sum(group.count for group in ordered[MAX_REASONS_SHOWN:])
    return [*shown, other] if other.count else shown


def _count(value: Any) -> int:
    """A count from the (untrusted) report: a non-negative integer, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _counts(value: Any) -> dict[str, int]:
    return {str(key): _count(count) for key, count in value.items()} if isinstance(value, dict) else {}


def _chart(counts: Mapping[str, int], stage: str = "") -> Chart:
    """Bars for ``counts``, largest first (ties by label), the :data:`MAX_BARS` largest kept."""
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    top = max((count for _, count in items), default=0) or 1
    bars = [Bar(label, count, round(100 * count / top, 1), stage) for label, count in items[:MAX_BARS]]
    rest = items[MAX_BARS:]
    return Chart(bars, len(rest), sum(count for _, count in rest))


@dataclass
class StageRow:
    """A stage's line of the stages table, and the chart of its rules."""

    name: str
    documents_changed: int
    chars_removed: int
    seconds: float
    rules: Chart


def _stages(report: Mapping[str, Any]) -> list[StageRow]:
    stages = report.get("stages")
    if not isinstance(stages, dict):
        return []
    rows = []
    for name, stats in stages.items():
        stats = stats if isinstance(stats, dict) else {}
        rules = _chart(_counts(stats.get("rules")), str(name))
        rows.append(
            StageRow(
                str(name),
                _count(stats.get("documents_changed")),
                _count(stats.get("chars_removed")),
                _number(stats.get("seconds")),
                rules,
            )
        )
    return rows


@dataclass
class LearnedSource:
    """A source's learned lines, most frequent first, bounded; ``more`` is how many were left out."""

    source: str
    lines: list[dict[str, Any]]
    more: int


def _learned(data: Mapping[str, Any]) -> tuple[list[LearnedSource], int]:
    sources = [(str(name), lines) for name, lines in data["sources"].items() if isinstance(lines, list)]
    sources.sort(key=lambda item: (-len(item[1]), item[0]))
    shown = []
    for name, lines in sources[:MAX_LEARNED_SOURCES]:
        rows = [_learned_line(line) for line in lines if isinstance(line, dict)]
        rows.sort(key=lambda row: (-row["documents"], row["label"]))
        shown.append(LearnedSource(name, rows[:MAX_LEARNED_LINES], max(0, len(rows) - MAX_LEARNED_LINES)))
    return shown, max(0, len(sources) - MAX_LEARNED_SOURCES)


def _learned_line(line: Mapping[str, Any]) -> dict[str, Any]:
    text = line.get("text")
    return {
        "text": text if isinstance(text, str) else None,
        "label": text if isinstance(text, str) else str(line.get("hash", "")),
        "hash": str(line.get("hash", "")),
        "documents": _count(line.get("documents")),
        "share": _number(line.get("share")),
    }


def _visible(text: Any) -> str:
    """Controls and direction overrides as escapes: a reviewer must see them, and they must not reorder text."""
    return str(text).translate(_VISIBLE)


def _clip(text: Any, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def _environment() -> jinja2.Environment:
    """Autoescaping always on, whatever the template's name: every text on the page comes from the documents."""
    import jinja2  # only when a page is written: the command line starts without it

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["visible"] = _visible
    env.filters["clip"] = _clip
    return env


def _template(env: jinja2.Environment) -> jinja2.Template:
    source = resources.files("normkit.templates").joinpath("review.html.j2").read_text(encoding="utf-8")
    return env.from_string(source)


def _script_hash(template: jinja2.Template) -> str:
    """The CSP hash of the page's one script (the template's ``script`` block): only it may run."""
    script = "".join(template.blocks["script"](template.new_context({})))
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def render_page(
    *,
    report: Mapping[str, Any],
    learned: Mapping[str, Any] | str | None,
    survey: Survey,
    views: Sequence[DocumentView],
    reasons: Sequence[ReasonGroup],
    folder: Path,
) -> str:
    """The page's HTML."""
    template = _template(_environment())
    counts = report.get("documents", {})
    headline = {name: _count(counts.get(name)) for name in ("read", "written", "rejected", "flagged")}
    learned_sources, learned_more = _learned(learned) if isinstance(learned, Mapping) else ([], 0)
    return template.render(
        csp_script=_script_hash(template),
        folder=str(folder),
        report=report,
        meta=_meta(report),
        headline=headline,
        stages=_stages(report),
        stage_chart=_chart({row.name: row.documents_changed for row in _stages(report)}),
        sources=_chart(_counts(report.get("sources"))),
        reject_hooks=_chart(_counts(report.get("reject_reasons"))),
        flags=_chart(dict(survey.flags)),
        reasons=reasons,
        samples=_rule_samples(survey, _stages(report)),
        learned=learned_sources,
        learned_more=learned_more,
        learned_note=learned if isinstance(learned, str) else None,
        views=views,
        records=survey.records,
        edited=survey.edited,
        limit=survey.limit,
        limits={
            "samples": SAMPLES_PER_RULE,
            "line_chars": MAX_LINE_CHARS,
            "sample_chars": MAX_SAMPLE_CHARS,
            "output_chars": MAX_OUTPUT_CHARS,
        },
    )


def _rule_samples(survey: Survey, stages: Sequence[StageRow]) -> list[dict[str, Any]]:
    """Each rule's sampled lines with the rule's count from the report, in stage then rule order."""
    totals = {(row.name, bar.label): bar.count for row in stages for bar in row.rules.bars}
    order = {row.name: index for index, row in enumerate(stages)}
    rules = sorted(survey.samples, key=lambda rule: (order.get(rule[0], len(order)), rule))
    return [
        {"stage": stage, "rule": rule, "total": totals.get((stage, rule), 0), "lines": survey.samples[stage, rule]}
        for stage, rule in rules
    ]


def _meta(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run's description, as label and text pairs (all from the untrusted report, escaped on the page)."""
    pipeline = report.get("pipeline")
    inputs = report.get("inputs")
    phases = report.get("phases")
    pairs = [
        ("normkit", str(report.get("normkit_version", "?"))),
        ("inputs", ", ".join(map(str, inputs)) if isinstance(inputs, list) else "?"),
        ("format", str(report.get("format", "?"))),
        ("pipeline", " → ".join(map(str, pipeline)) if isinstance(pipeline, list) else "?"),
        ("executor", f"{report.get('executor', '?')} ({_count(report.get('workers'))} workers)"),
        ("seconds", f"{_number(report.get('seconds')):.1f}"),
    ]
    if isinstance(phases, dict):
        pairs.append(("phases", ", ".join(f"{name} {_number(s):.2f}s" for name, s in phases.items())))
    return pairs
