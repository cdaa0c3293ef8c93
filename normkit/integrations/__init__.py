"""Bridges from normkit to the data pipelines people already run (issue 14).

Each bridge is a module of its own, imported by name (``normkit.integrations.datatrove``), so that importing
normkit never imports a framework it does not need, and a missing framework is one clear ImportError naming
the extra to install. Hugging Face ``datasets`` needs no bridge: ``--format hf`` (or ``shape = "hf"`` under
``--format parquet``) writes files it loads as they are (``docs/huggingface.md``).
"""
