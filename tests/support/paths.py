"""Where the tests' files are: everything inside the repository, nothing beside it."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "alertmanager"  # real Alertmanager 0.25 captures
GOLDEN = REPO_ROOT / "tests" / "fixtures" / "golden"  # rendered output kept byte for byte
HARNESS = Path(__file__).resolve().parent / "alertmanager-harness.sh"
