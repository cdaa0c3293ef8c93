"""Source profile for The New Arab (newarab.com): placeholder until the boilerplate work lands."""

from __future__ import annotations

from normkit import Profile, Register, hookimpl


@hookimpl
def normkit_register_profiles(register: Register) -> None:
    register(Profile("newarab", ("newarab.com", "english.alaraby.co.uk"), {}))
