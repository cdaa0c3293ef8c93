"""Validating records against normkit's JSON Schemas, which are loaded from the package and compiled once.

Schemas ship inside the wheel as ``normkit.schemas`` data (the repository's ``schemas/`` folder). A ``$ref``
resolves only to another normkit schema, by its ``$id`` or file name; anything else (a URL above all) is an
error, never a network fetch.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
import referencing.jsonschema

from normkit.errors import SchemaError

__all__ = ["SchemaViolation", "iter_violations", "list_schemas", "load_schema", "validator_for"]

_PACKAGE = "normkit.schemas"
_SUFFIX = ".schema.json"


def list_schemas() -> list[str]:
    """Names of the shipped schemas (``document`` for ``document.schema.json``)."""
    files = importlib.resources.files(_PACKAGE).iterdir()
    return sorted(f.name[: -len(_SUFFIX)] for f in files if f.name.endswith(_SUFFIX))


@functools.cache
def load_schema(name_or_path: str) -> dict[str, Any]:
    """A shipped schema by name, or a schema file by path; checked against its metaschema."""
    if name_or_path.endswith(".json") or "/" in name_or_path:
        text, where = _read_path(Path(name_or_path))
    else:
        resource = importlib.resources.files(_PACKAGE) / f"{name_or_path}{_SUFFIX}"
        if not resource.is_file():
            known = ", ".join(list_schemas())
            raise SchemaError(f"unknown schema {name_or_path!r} (known: {known})")
        text, where = resource.read_text("utf-8"), f"{name_or_path}{_SUFFIX}"
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{where}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        pointer = "/" + "/".join(str(p) for p in exc.absolute_path)
        raise SchemaError(f"{where}: invalid schema at {pointer}: {exc.message}") from exc
    return schema


def _read_path(path: Path) -> tuple[str, str]:
    try:
        return path.read_text("utf-8"), str(path)
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read schema: {exc.strerror}") from exc


def _retrieve(uri: str) -> referencing.Resource[Any]:
    """Resolve a ``$ref`` to another normkit schema; refuse everything else (no network, ever)."""
    name = uri.rstrip("/").rsplit("/", 1)[-1].removesuffix(_SUFFIX).split(".v")[0]
    if name in list_schemas():
        return referencing.jsonschema.DRAFT202012.create_resource(load_schema(name))
    raise referencing.exceptions.NoSuchResource(ref=uri)


@functools.cache
def validator_for(name_or_path: str) -> jsonschema.protocols.Validator:
    """A compiled validator for a schema, built once per process."""
    schema = load_schema(name_or_path)
    registry: referencing.Registry[Any] = referencing.Registry(retrieve=_retrieve)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


@dataclass(frozen=True)
class SchemaViolation:
    """One way a record breaks its schema: where (a JSON pointer), which rule, and the message."""

    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message} ({self.rule})"


def iter_violations(record: Any, schema: str) -> Iterator[SchemaViolation]:
    """Every violation of ``schema`` by ``record``, in a stable order; nothing when it is valid."""
    validator = validator_for(schema)
    try:
        if validator.is_valid(record):  # the common case: one pass, no error objects built
            return
        errors = sorted(validator.iter_errors(record), key=lambda e: list(map(str, e.absolute_path)))
    except referencing.exceptions.Unresolvable as exc:
        raise SchemaError(f"schema {schema}: $ref {exc.ref!r} is not one of normkit's schemas") from exc
    for error in errors:
        pointer = "".join(f"/{p}" for p in error.absolute_path)
        yield SchemaViolation(pointer, str(error.validator), error.message)
