"""normkit's text library: bytes in an unknown encoding to text (:func:`decode`), and text repaired (:func:`repair`).

Plain functions with no plugin machinery, so they serve outside a pipeline too; the ``decode`` and
``fix_text`` stages are thin wrappers around them. ``normkit.decode`` and ``normkit.repair`` are these.
"""

from __future__ import annotations

from normkit.text.decoding import BinaryInputError, Decoded, DecodeOptions, EncodingNameError, decode
from normkit.text.repairing import Normalization, RepairOptions, repair, repair_explained

__all__ = [
    "BinaryInputError",
    "DecodeOptions",
    "Decoded",
    "EncodingNameError",
    "Normalization",
    "RepairOptions",
    "decode",
    "repair",
    "repair_explained",
]
