"""Jinja2 templates normkit renders (the review page); package data, shipped in the wheel."""
