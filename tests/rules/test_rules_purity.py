"""The rules package stays a pure core: importing it pulls in only the standard library."""

from __future__ import annotations

import subprocess
import sys

from tests.support.paths import REPO_ROOT

PROJECT_ROOT = REPO_ROOT
# Diff sys.modules around the import so site hooks loaded at start-up do not count.
NEW_IMPORTS = (
    "import sys; before = set(sys.modules); import rules; "
    "print('\\n'.join(sorted(set(sys.modules) - before)))"
)


def test_rules_package_imports_only_the_standard_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", NEW_IMPORTS],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    top_level = {name.split(".")[0] for name in result.stdout.split()}
    assert "rules" in top_level
    foreign = top_level - set(sys.stdlib_module_names) - {"rules"}
    assert not foreign, f"rules imports non-stdlib modules: {sorted(foreign)}"
