"""Source profile for The New Arab (newarab.com): its caption credits, widget labels and read-time line.

An example of a source plugin: rules as data, registered for the site's hosts; the boilerplate stage applies
them before its builtin rules to documents of these sources, and each edit names this plugin.
"""

from __future__ import annotations

from normkit import Profile, Register, hookimpl

#: the site's own furniture; the builtin rules may catch some of it too, but these say why in its terms.
RULES = [
    {
        "id": "caption-getty",
        "class": "caption",
        # the site credits photos with a bracketed agency at the end of the caption line
        "pattern": r".{10,400}\[(?:Getty|AFP|AP|Reuters|EPA|Anadolu|Anadolu Agency|Twitter|Facebook|Archive)\]",
    },
    {"id": "widget-label", "class": "widget", "lines": ["Analysis", "Live Story", "Opinion", "Comment", "In Depth"]},
    {"id": "read-time", "class": "read-time", "pattern": r"\d{1,3} min read"},
    {"id": "syndication", "class": "byline", "lines": ["Via SyndiGate.info"], "where": "edge"},
]


@hookimpl
def normkit_register_profiles(register: Register[Profile]) -> None:
    register(Profile("newarab", ("newarab.com", "english.alaraby.co.uk"), {"boilerplate": {"rules": RULES}}))
