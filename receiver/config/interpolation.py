"""`${VAR}` and `${VAR:-default}` in the configuration file, and what an empty result means."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# ${VAR} or ${VAR:-default}; "$$" is a literal dollar sign.
_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree.

    Interpolating parsed values (not the raw text) means a secret holding YAML syntax
    (`: `, `#`, quotes) can never change the file's structure. An unset `${VAR}` becomes "".
    """
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            found = environ.get(name, "")
            return found if found or default is None else default

        return _INTERPOLATION.sub(substitute, value)
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    return value


def blank_is_unset(value: Any) -> Any:
    """Field validator: "" means "not given" (an unset `${VAR}` interpolates to "")."""
    return None if value == "" else value
