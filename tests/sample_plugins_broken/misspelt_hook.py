"""A plugin implementing a hook that does not exist (a typo), to check it fails at start-up."""

from normkit import hookimpl


@hookimpl
def normkit_register_stage(register):  # noqa: ANN001, ANN201 - misspelt on purpose
    pass
