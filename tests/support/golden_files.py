"""Golden files: rendered output compared byte for byte with a file kept in the repository.

After an intended change, regenerate with ONWATCH_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(path: Path, actual: str) -> None:
    """`actual` equals the file at `path` byte for byte; ONWATCH_UPDATE_GOLDEN=1 rewrites it."""
    if os.environ.get("ONWATCH_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    assert path.is_file(), f"{path} missing: run with ONWATCH_UPDATE_GOLDEN=1 and review it"
    assert actual.encode("utf-8") == path.read_bytes(), f"{path.name} differs from its golden file"
