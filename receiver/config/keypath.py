"""Key paths such as `rules[2].match[0]`: how onwatch names the spot of a problem in a document."""

from __future__ import annotations


def format_location(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a key path: `rules[2].match[0]`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"
