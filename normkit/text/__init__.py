"""normkit's text library: bytes in an unknown encoding to text (:func:`decode`), and text repaired (:func:`repair`).

Plain functions with no plugin machinery, so they serve outside a pipeline too; the ``decode`` and
``fix_text`` stages are thin wrappers around them. ``normkit.decode`` and ``normkit.repair`` are these.

For plugin authors who compile prefilters from regexes: ``sre_parse``, ``sre_sequence``, ``sre_compile``,
``sre_ops`` and ``SRE_EXTRA_CASES`` give CPython's own regex parse trees (what ``re`` compiles), behind the
version guard of :mod:`normkit.text._sre`; ``SRE_CHECKED_ON`` lists the CPython versions it was checked on.
"""

from __future__ import annotations

from normkit.text._sre import SRE_CHECKED_ON, SRE_EXTRA_CASES, sre_compile, sre_ops, sre_parse, sre_sequence
from normkit.text.decoding import BinaryInputError, Decoded, DecodeOptions, EncodingNameError, decode
from normkit.text.repairing import Normalization, RepairOptions, repair, repair_explained

__all__ = [
    "SRE_CHECKED_ON",
    "SRE_EXTRA_CASES",
    "BinaryInputError",
    "DecodeOptions",
    "Decoded",
    "EncodingNameError",
    "Normalization",
    "RepairOptions",
    "decode",
    "repair",
    "repair_explained",
    "sre_compile",
    "sre_ops",
    "sre_parse",
    "sre_sequence",
]
