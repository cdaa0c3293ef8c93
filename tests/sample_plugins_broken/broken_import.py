"""A plugin whose import fails, to check the error names it."""

import a_module_that_does_not_exist  # noqa: F401
