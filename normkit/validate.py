"""Validating records against normkit's JSON Schemas, which are loaded from the package and compiled once.

Schemas ship inside the wheel as ``normkit.schemas`` data (the repository's ``schemas/`` folder). A ``$ref``
resolves only to another normkit schema, by its ``$id`` or file name; anything else (a URL above all) is an
error raised when the schema is compiled, never a network fetch.

Each record is checked by a validator compiled once per process. jsonschema interprets the schema on every
call (~350 µs for the seed's record), so schemas that use only the keywords listed in ``FAST_KEYWORDS`` are
also compiled to Python code by fastjsonschema (~20 µs), which answers "valid?"; jsonschema still explains
every failure, so pointers and rules never depend on which engine said no. ``tests/test_validate_fast.py``
checks with hypothesis that the two agree.

Before either, msgspec answers a strict "yes" (:mod:`normkit.quickcheck`): a type compiled from the schema,
then a short walk for what msgspec lets through and JSON Schema does not (a tuple or set for an array, a
mapping that is not a dict for an object, a ``Decimal`` beside a bound). It may only say "yes": a record it
refuses goes to jsonschema, so every message is its own (fastjsonschema then serves only schemas msgspec cannot
check). A record costs about a third of fastjsonschema's time, and neither fastjsonschema nor jsonschema is
imported or compiled in a process whose records and configuration are all valid (a run's start-up). The same
test file checks that msgspec is never more lenient than jsonschema.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from normkit.errors import SchemaError
from normkit.quickcheck import quick_check

if TYPE_CHECKING:
    import jsonschema
    import referencing

__all__ = [
    "FAST_KEYWORDS",
    "CompiledSchema",
    "SchemaViolation",
    "compiled",
    "is_schema_path",
    "iter_violations",
    "list_schemas",
    "load_schema",
    "quick_check",
    "schema_error",
    "schema_source",
    "validator_for",
]

_PACKAGE = "normkit.schemas"
_SUFFIX = ".schema.json"
#: where normkit's schemas live by ``$id``; a ``$ref`` elsewhere (with a scheme) is refused.
BASE_URI = "https://normkit.dev/schemas/"

#: keywords on which fastjsonschema and jsonschema are known to agree; a schema using any other keyword
#: (``format``, ``pattern``, ``uniqueItems``, combinators, ...) is checked by jsonschema alone.
FAST_KEYWORDS = frozenset(
    {"$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "type", "properties", "required"}
    | {"additionalProperties", "items", "enum", "minLength", "maxLength", "minimum", "maximum"}
)


def list_schemas() -> list[str]:
    """Names of the shipped schemas (``document`` for ``document.schema.json``)."""
    files = importlib.resources.files(_PACKAGE).iterdir()
    return sorted(f.name[: -len(_SUFFIX)] for f in files if f.name.endswith(_SUFFIX))


def is_schema_path(name_or_path: str) -> bool:
    """Whether ``name_or_path`` is a schema file (``.json``, or with a folder) rather than a schema's name."""
    return name_or_path.endswith(".json") or "/" in name_or_path or "\\" in name_or_path


def schema_source(name_or_path: str) -> tuple[str, str]:
    """The text of a shipped schema (by name) or of a schema file (by path), and how to name it in errors."""
    if is_schema_path(name_or_path):
        path = Path(name_or_path)
        try:
            return path.read_text("utf-8"), str(path)
        except OSError as exc:
            raise SchemaError(f"{path}: cannot read schema: {exc.strerror}") from exc
    resource = importlib.resources.files(_PACKAGE) / f"{name_or_path}{_SUFFIX}"
    if not resource.is_file():
        known = ", ".join(list_schemas())
        raise SchemaError(f"unknown schema {name_or_path!r} (known: {known})")
    return resource.read_text("utf-8"), f"{name_or_path}{_SUFFIX}"


@functools.cache
def load_schema(name_or_path: str) -> dict[str, Any]:
    """A shipped schema by name, or a schema file by path; a file is checked against its metaschema.

    A shipped schema is not checked again in every process (about 100 ms of a one-document run): the test
    suite checks each one against the 2020-12 metaschema (``tests/test_schemas.py``).
    """
    text, where = schema_source(name_or_path)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{where}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(schema, dict):
        raise SchemaError(f"{where}: a schema must be a JSON object")
    if not is_schema_path(name_or_path):
        return schema
    import jsonschema  # only a schema file is checked against its metaschema
    import referencing.exceptions

    try:
        _dialect(schema, where).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaError(f"{where}: invalid schema at {_pointer(exc.absolute_path)}: {exc.message}") from exc
    except (referencing.exceptions.Unresolvable, RecursionError) as exc:  # a metaschema's own refs, a deep schema
        raise SchemaError(f"{where}: cannot check the schema against its metaschema: {exc!r}") from exc
    return schema


_UNKNOWN_DIALECT: Any = object()


def _dialect(schema: dict[str, Any], where: str) -> Any:
    """The validator class of the dialect ``$schema`` names (2020-12 when it names none).

    A ``$schema`` that is not a JSON Schema dialect jsonschema knows (a URL elsewhere, a file, a number) is an
    error: it is never fetched, and checking by another dialect's rules without saying so would mislead.
    """
    import jsonschema

    if "$schema" not in schema:
        return jsonschema.validators.validator_for(schema)
    named = schema["$schema"]
    if not isinstance(named, str):
        raise SchemaError(f"{where}: $schema must be a string naming a JSON Schema dialect, not {named!r}")
    cls = jsonschema.validators.validator_for(schema, default=_UNKNOWN_DIALECT)
    if cls is _UNKNOWN_DIALECT:
        raise SchemaError(
            f"{where}: $schema {named!r} is not a JSON Schema dialect normkit knows "
            f"(use https://json-schema.org/draft/2020-12/schema); metaschemas are never fetched"
        )
    return cls


def _pointer(path: Any) -> str:
    return "".join(f"/{p}" for p in path) or "/"


def _retrieve(uri: str) -> referencing.Resource[Any]:
    """Resolve a ``$ref`` to another normkit schema; refuse everything else (no network, ever)."""
    import referencing.exceptions
    import referencing.jsonschema

    name = _shipped_name(uri)
    if name is None:
        raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class, unseen by mypy
    return referencing.jsonschema.DRAFT202012.create_resource(load_schema(name))


def _shipped_name(uri: str) -> str | None:
    """The name of the shipped schema a ``$ref`` URI names; None for any other URI."""
    if urllib.parse.urlsplit(uri).scheme and not uri.startswith(BASE_URI):
        return None
    name = uri.rstrip("/").rsplit("/", 1)[-1].removesuffix(_SUFFIX).split(".v")[0]
    return name if name in list_schemas() else None


_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

#: the keywords that refer to another schema: each must resolve to normkit's own, when the schema is compiled.
_REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")


def _refs(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str, str]]:
    """Every reference (``$ref``, ``$dynamicRef``, ``$recursiveRef``) in a schema with the JSON pointer of the
    object holding it; a reference that is not a string is one that cannot resolve."""
    if isinstance(node, dict):
        for keyword in _REFERENCES:
            if keyword in node:
                ref = node[keyword] if isinstance(node[keyword], str) else repr(node[keyword])
                yield keyword, ref, _pointer(path)
        for key, value in node.items():
            yield from _refs(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, (*path, str(index)))


def _check_refs(schema: dict[str, Any], registry: referencing.Registry[Any], where: str) -> None:
    """Resolve every ``$ref`` now, so a bad one is a clear error before any record, not in the middle."""
    import referencing.exceptions

    resolver = registry.resolver(base_uri=schema.get("$id", ""))
    for keyword, ref, pointer in _refs(schema):
        try:
            resolver.lookup(ref)
        except referencing.exceptions.Unresolvable as exc:
            raise SchemaError(
                f"{where}: {keyword} {ref!r} at {pointer} is not one of normkit's schemas "
                f"(refs resolve only to normkit's own schemas, never over the network)"
            ) from exc
        except (TypeError, ValueError) as exc:  # not a URI reference at all
            raise SchemaError(f"{where}: {keyword} {ref!r} at {pointer} is not a URI reference: {exc}") from exc


@functools.cache
def validator_for(name_or_path: str) -> jsonschema.protocols.Validator:
    """A jsonschema validator for a schema, built once per process, with every ``$ref`` checked."""
    import jsonschema
    import referencing
    import referencing.jsonschema

    schema = load_schema(name_or_path)
    resource = referencing.jsonschema.DRAFT202012.create_resource(schema)
    registry: referencing.Registry[Any] = referencing.Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    registry = registry.with_resource(schema.get("$id", ""), resource)
    _check_refs(schema, registry, schema_source(name_or_path)[1])
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def _fast_enough(node: Any, seen: frozenset[str] = frozenset()) -> bool:
    """True when every keyword of the schema, and of the normkit schemas it refers to, is in ``FAST_KEYWORDS``."""
    if isinstance(node, bool):
        return True
    if not isinstance(node, dict) or not set(node) <= FAST_KEYWORDS:
        return False
    ref = urllib.parse.urldefrag(str(node.get("$ref", "#")))[0]
    if ref and ref not in seen and not _fast_enough(_normkit_schema(ref), seen | {ref}):
        return False
    # enum compares with ==, and fastjsonschema's ``in`` takes True for 1: only string enums are safe.
    if "enum" in node and not all(isinstance(v, str) for v in node["enum"]):
        return False
    children = [*node.get("properties", {}).values(), *node.get("$defs", {}).values()]
    children += [node[k] for k in ("items", "additionalProperties") if k in node]
    return all(_fast_enough(child, seen) for child in children)


def _normkit_schema(uri: str) -> dict[str, Any]:
    """The shipped schema a (checked) ``$ref`` points to; fastjsonschema's only way to fetch a schema."""
    name = _shipped_name(urllib.parse.urldefrag(uri)[0])
    if name is None:
        raise SchemaError(f"{uri!r} is not one of normkit's schemas")
    # A deep copy: fastjsonschema rewrites the ``$ref``s of the schemas it compiles in place.
    return copy.deepcopy(load_schema(name))


def _fast_validator(schema: dict[str, Any]) -> Callable[[Any], Any] | None:
    if not _fast_enough(schema):
        return None
    import fastjsonschema  # only when msgspec said no, or cannot say

    # Every scheme goes to _normkit_schema: fastjsonschema fetches with urllib for a scheme it has no handler
    # for. use_default=False: it would otherwise write defaults into the record it checks.
    handlers = dict.fromkeys(("", "http", "https", "file"), _normkit_schema)
    source = _inlined(schema) or copy.deepcopy(schema)
    return fastjsonschema.compile(source, handlers=handlers, use_default=False, use_formats=False)


#: keywords that may stand beside a ``$ref`` that is inlined: they say nothing about the instance.
_ANNOTATIONS = frozenset({"$ref", "$comment", "title", "description"})


class _NotInlinableError(Exception):
    """A ``$ref`` with siblings that constrain, or one that refers to itself: fastjsonschema resolves them."""


def _inlined(schema: dict[str, Any]) -> dict[str, Any] | None:
    """``schema`` with every ``$ref`` replaced by the schema it points to; None when one cannot be.

    For a ``$ref`` fastjsonschema generates a function and, for each array item, formats the item's name
    (``data.edits[3]``) before calling it, for an error message nobody reads here (jsonschema explains a
    no): half the time of a document record with twenty edits. Inlined, the items are checked in the loop.
    All or nothing: a ``$ref`` left inside a schema taken from another document would resolve wrongly.
    """
    try:
        inlined: dict[str, Any] = _inline(schema, str(schema.get("$id", "")), schema, ())
    except _NotInlinableError:
        return None
    return copy.deepcopy(inlined)  # the walk shares subschemas with the cached originals


def _inline(node: Any, base: str, root: dict[str, Any], seen: tuple[str, ...]) -> Any:
    """A copy of ``node`` with its ``$ref``s inlined; ``base`` resolves them, ``seen`` catches a cycle.

    Only the keywords that hold schemas in ``FAST_KEYWORDS`` are walked (``enum`` and ``required`` hold data).
    """
    if not isinstance(node, dict):
        return node
    if "$id" in node and _document(urllib.parse.urljoin(base, str(node["$id"]))) != _document(base):
        raise _NotInlinableError(node["$id"])  # a resource of its own inside a document: refs resolve against it
    if "$ref" in node:
        uri = urllib.parse.urljoin(base, str(node["$ref"]))
        if not set(node) <= _ANNOTATIONS or uri in seen:
            raise _NotInlinableError(uri)
        document_uri, fragment = urllib.parse.urldefrag(uri)
        try:
            document = root if document_uri == _document(str(root.get("$id", ""))) else _normkit_schema(document_uri)
            target = _pointed(document, fragment)
        except Exception as exc:  # not ours to explain: fastjsonschema resolves it and says why
            raise _NotInlinableError(uri) from exc
        return _inline(target, document_uri, root, (*seen, uri))
    copied = dict(node)
    if "properties" in node:
        copied["properties"] = {name: _inline(child, base, root, seen) for name, child in node["properties"].items()}
    for key in ("items", "additionalProperties"):
        if key in node:
            copied[key] = _inline(node[key], base, root, seen)
    return copied


def _document(uri: str) -> str:
    """The URI of the document ``uri`` is in (the URI without its fragment)."""
    return urllib.parse.urldefrag(uri)[0]


def _pointed(document: Any, fragment: str) -> Any:
    """The part of ``document`` a URI fragment (a JSON pointer, percent-encoded) names."""
    node = document
    for token in filter(None, urllib.parse.unquote(fragment).split("/")):
        key = token.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


@dataclass(frozen=True)
class SchemaViolation:
    """One way a record breaks its schema: where (a JSON pointer), which rule, and the message."""

    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message} ({self.rule})"


class CompiledSchema:
    """A schema ready to check records: msgspec's quick yes, the fast yes/no, and jsonschema to explain a no.

    Built from a name, each engine is compiled when first needed: msgspec's type for the first record, the
    others only for a record msgspec refuses (or a schema it cannot take).
    """

    def __init__(
        self,
        name: str,
        validator: jsonschema.protocols.Validator | None = None,
        fast: Callable[[Any], Any] | None = None,
        quick: Callable[[Any], bool] | None = None,
    ) -> None:
        self.name = name
        if validator is not None:  # given ready, with the others as they are (tests, a schema checked lazily)
            self.validator = validator
            self.fast = fast
            self.quick = quick

    @functools.cached_property
    def validator(self) -> jsonschema.protocols.Validator:
        return validator_for(self.name)

    @functools.cached_property
    def fast(self) -> Callable[[Any], Any] | None:
        return _fast_validator(load_schema(self.name))

    @functools.cached_property
    def quick(self) -> Callable[[Any], bool] | None:
        schema = load_schema(self.name)
        if str(schema.get("$schema", _DRAFT_2020_12)).rstrip("#") != _DRAFT_2020_12:
            return None  # the keywords are read as 2020-12 reads them; an older dialect's schema goes to jsonschema
        return quick_check(_inlined(schema))

    def is_valid(self, record: Any) -> bool:
        """msgspec's yes; on its no, jsonschema's answer on the record as it is written (:func:`_as_written`).

        fastjsonschema answers only for a schema msgspec cannot check.
        """
        quick = self.quick
        if quick is not None:
            return quick(record) or bool(self.validator.is_valid(_as_written(record)))
        fast = self.fast
        if fast is None:
            return bool(self.validator.is_valid(record))
        import fastjsonschema

        try:
            fast(record)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    def violations(self, record: Any) -> Iterator[SchemaViolation]:
        """Every violation by ``record``, in a stable order; nothing when it is valid.

        A reference that resolves only while a record is checked (a ``$dynamicRef`` jsonschema follows lazily)
        and does not resolve is a :class:`~normkit.errors.SchemaError`, never a traceback or a network fetch.
        """
        quick = self.quick
        if quick is not None and quick(record):  # the common case: nothing else imported, no error objects built
            return  # on msgspec's no, jsonschema's errors decide at once (none: valid after all)
        import referencing.exceptions

        record = _as_written(record)
        try:
            if quick is None and self.is_valid(record):
                return
            errors = sorted(self.validator.iter_errors(record), key=lambda e: list(map(str, e.absolute_path)))
        except referencing.exceptions.Unresolvable as exc:
            raise SchemaError(
                f"schema {self.name}: reference {getattr(exc, 'ref', exc)!r} is not one of normkit's schemas "
                "(references resolve only to normkit's own schemas, never over the network)"
            ) from exc
        for error in errors:
            pointer = "".join(f"/{p}" for p in error.absolute_path)
            yield SchemaViolation(pointer, str(error.validator), error.message)


@functools.cache
def compiled(name_or_path: str) -> CompiledSchema:
    """The compiled form of a schema, built once per process.

    A schema file's references are checked now, so a bad one is an error before any record; a shipped
    schema's are checked by the test suite, and its validators are compiled only when a record needs them.
    """
    checker = CompiledSchema(name_or_path)
    if is_schema_path(name_or_path):
        validator_for(name_or_path)  # checks the file and its references (not an assert: python -O keeps it)
    return checker


def _as_written(value: Any) -> Any:
    """``value`` as the JSON it is written as: orjson writes a tuple as an array, so the schema sees a list.

    Only on the slow path: msgspec's quick yes refuses a tuple where an array is required, as the schema does
    for Python values, and jsonschema then judges the record that reaches the file.
    """
    if isinstance(value, dict):
        return {key: _as_written(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_written(item) for item in value]
    return value


def iter_violations(record: Any, schema: str) -> Iterator[SchemaViolation]:
    """Every violation of ``schema`` by ``record``, in a stable order; nothing when it is valid."""
    return compiled(schema).violations(record)


def schema_error(value: Any, schema: dict[str, Any]) -> jsonschema.ValidationError | None:
    """jsonschema's best match among the ways ``value`` breaks ``schema`` (2020-12); None when it breaks none.

    For options and rule tables: msgspec's quick yes comes first, so jsonschema is imported and the schema
    interpreted only for a value that may be invalid, and the message is always jsonschema's.
    """
    quick = quick_check(schema)
    if quick is not None and quick(value):
        return None
    import jsonschema

    error: jsonschema.ValidationError | None = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(value)
    )
    return error
