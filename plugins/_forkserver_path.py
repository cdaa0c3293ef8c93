"""Imported first by the pool's fork server, before normkit: the parent's ``sys.path``.

Python 3.12 hands the fork server the parent's ``sys.path``; 3.10 and 3.11 do not, and the server starts with
``python -c``, which puts the current folder first. Run from a source checkout (the README's ``normkit run
seeds/ -o out/``), it would import the checkout's ``normkit/``, which has no ``normkit.schemas`` (the schema
files are mapped in at install time), and every worker would fail. This module puts the parent's path back.
"""

from __future__ import annotations

import json
import os
import sys

#: the environment variable the pool sets, before it starts the fork server, to the parent's ``sys.path``.
SYS_PATH_VARIABLE = "NORMKIT_PARENT_SYS_PATH"

_parent = os.environ.get(SYS_PATH_VARIABLE)
if _parent:
    sys.path[:] = json.loads(_parent)
