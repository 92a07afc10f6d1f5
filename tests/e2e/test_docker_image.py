"""What the Docker image gets, without Docker: the build context is the repository minus
.dockerignore, installed as a package into a fresh virtual environment, then started the way
the Dockerfile's ENV and CMD start it.

This catches the image drifting from the package: a new subpackage, migration or template
that the built package leaves out fails here, although the editable install the other tests
use (which reads the source tree) would still find it.

No network: the new venv sees the installed dependencies through a `.pth` file, never the
repository itself, and pip builds with `--no-build-isolation --no-index`.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

try:  # the server helpers live in tests/support/ once the test tree is reorganised
    from tests.support.servers import free_port, wait_for
except ImportError:
    from tests.servers import free_port, wait_for

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
ROOT_USERS = {"root", "0"}


# --------------------------------------------------------------------------------------------
# .dockerignore, matched as Docker matches it (moby/patternmatcher)


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    exclusion: bool  # a `!pattern`: re-includes what it matches


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Go's filepath.Match plus `**`: `*` and `?` stop at `/`, `**` crosses directories."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
            out += ".*" if i >= len(pattern) else "(.*/)?"
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":  # a character class, `[^...]` negated, passes through
            end = pattern.find("]", i + 1)
            if end < 0:
                raise ValueError(f"unterminated character class in {pattern!r}")
            out += pattern[i : end + 1]
            i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(f"^{out}$")


def read_dockerignore(path: Path) -> list[_Pattern]:
    patterns = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        line = posixpath.normpath(line[1:].strip() if exclusion else line).lstrip("/")
        patterns.append(_Pattern(_pattern_regex(line), exclusion))
    return patterns


def is_ignored(relpath: str, patterns: list[_Pattern]) -> bool:
    """Docker's rule: a pattern matches a path or any of its parents; the last match wins."""
    parts = relpath.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in candidates):
            ignored = not pattern.exclusion
    return ignored


def build_context(source: Path, target: Path, patterns: list[_Pattern]) -> list[str]:
    """Copy what `docker build` would send; return the copied files' relative paths."""
    prune = not any(p.exclusion for p in patterns)  # with `!` a pruned dir could re-include
    copied = []
    for dirpath, dirnames, filenames in os.walk(source):
        here = Path(dirpath)
        rel_dir = here.relative_to(source).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        links = [d for d in dirnames if (here / d).is_symlink()]  # sent as links, not walked
        if prune:
            dirnames[:] = [d for d in dirnames if not is_ignored(prefix + d, patterns)]
        for name in [*filenames, *links]:
            rel = prefix + name
            if is_ignored(rel, patterns):
                continue
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(here / name, target / rel, follow_symlinks=False)
            copied.append(rel)
    return sorted(copied)


# --------------------------------------------------------------------------------------------
# The Dockerfile's final stage


@dataclass
class FinalStage:
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    volumes: list[str] = field(default_factory=list)
    copies: list[tuple[list[str], str]] = field(default_factory=list)  # (sources, destination)
    healthcheck: list[str] | None = None
    cmd: list[str] | None = None


def _exec_form(text: str) -> list[str]:
    """`["a", "b"]` (exec form) or `a b` (shell form, split as the shell would)."""
    text = text.strip()
    if text.startswith("["):
        return [str(arg) for arg in json.loads(text)]
    return shlex.split(text)


def _flags_and_rest(text: str) -> tuple[list[str], str]:
    flags = []
    while text.startswith("--"):
        flag, _, text = text.partition(" ")
        flags.append(flag)
        text = text.lstrip()
    return flags, text


def read_dockerfile(path: Path) -> FinalStage:
    """The instructions of the last FROM stage that this test follows."""
    logical, pending = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stage = FinalStage()
    for instruction in logical:
        keyword, _, args = instruction.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            stage = FinalStage()
        elif keyword == "ENV":
            words = shlex.split(args)
            if words and "=" not in words[0]:  # legacy `ENV KEY value with spaces`
                stage.env[words[0]] = args.split(None, 1)[1] if len(words) > 1 else ""
            else:
                for word in words:
                    key, _, value = word.partition("=")
                    stage.env[key] = value
        elif keyword == "USER":
            stage.user = args
        elif keyword == "VOLUME":
            stage.volumes += _exec_form(args)
        elif keyword in {"COPY", "ADD"}:
            flags, rest = _flags_and_rest(args)
            if not any(flag.startswith("--from") for flag in flags):
                *sources, destination = _exec_form(rest)
                stage.copies.append((sources, destination))
        elif keyword == "HEALTHCHECK":
            _, rest = _flags_and_rest(args)
            command, _, text = rest.partition(" ")
            stage.healthcheck = None if command.upper() == "NONE" else _exec_form(text)
        elif keyword == "CMD":
            stage.cmd = _exec_form(args)
    return stage


def copied_source(stage: FinalStage, image_path: str) -> str:
    """The context path that the stage's COPY instructions put at `image_path`."""
    for sources, destination in stage.copies:
        for source in sources:
            into_dir = destination.endswith("/") or len(sources) > 1
            target = posixpath.join(destination, posixpath.basename(source))
            if (target if into_dir else destination) == image_path:
                return source
    raise AssertionError(f"no COPY in the Dockerfile's final stage puts a file at {image_path}")


def with_options(argv: list[str], options: dict[str, str]) -> list[str]:
    """`argv` with the values of `options` replaced (`--opt value` or `--opt=value`)."""
    out, seen, i = [], set(), 0
    while i < len(argv):
        name = argv[i].split("=", 1)[0]
        if name in options:
            out += [name, options[name]]
            seen.add(name)
            i += 1 if "=" in argv[i] else 2
            continue
        out.append(argv[i])
        i += 1
    missing = set(options) - seen
    assert not missing, f"the Dockerfile's CMD {argv} has no {sorted(missing)}"
    return out


# --------------------------------------------------------------------------------------------
# The "image": the context installed into a fresh venv


@dataclass
class Image:
    context: Path
    context_files: list[str]
    venv: Path
    site_packages: Path
    stage: FinalStage
    home: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self, **overrides: str) -> dict[str, str]:
        """A clean environment: the Dockerfile's ENV, no PYTHONPATH, this venv first on PATH."""
        env = {k: v for k, v in self.stage.env.items() if k not in {"PATH", "HOME"}}
        env.update(
            PATH=f"{self.bin}{os.pathsep}{os.defpath}",
            HOME=str(self.home),
            LANG="C.UTF-8",
        )
        env.update(overrides)
        return env

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 60.0) -> str:
        """Run to completion in the venv (cwd outside the context); its output."""
        result = subprocess.run(
            argv,
            cwd=self.home,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = f"$ {shlex.join(argv)}\n{result.stdout}{result.stderr}"
        assert result.returncode == 0, f"exit {result.returncode}:\n{output}"
        return output


def _dependency_paths(package_names: set[str]) -> list[str]:
    """What this interpreter imports its dependencies from, minus every directory that would
    make the repository's own packages importable (the repo root, pytest's rootdir entries)."""
    paths = []
    for entry in [
        *sys.path,
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    ]:
        if not entry or not Path(entry).is_dir():
            continue
        path = Path(entry).resolve()
        if str(path) in paths or any((path / name).exists() for name in package_names):
            continue
        paths.append(str(path))
    return paths


def _top_level_packages(files: list[str]) -> set[str]:
    """Top-level directories of the context that hold Python code."""
    return {rel.split("/", 1)[0] for rel in files if "/" in rel and rel.endswith(".py")}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    assert DOCKERFILE.is_file() and DOCKERIGNORE.is_file()
    root = tmp_path_factory.mktemp("docker-image")
    stage = read_dockerfile(DOCKERFILE)

    context = root / "context"
    context.mkdir()
    files = build_context(REPO_ROOT, context, read_dockerignore(DOCKERIGNORE))
    assert "pyproject.toml" in files, ".dockerignore leaves pyproject.toml out of the context"
    packages = _top_level_packages(files)
    assert packages, f"no Python package in the build context: {files}"

    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    purelib = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        cwd=root,
        env={"PATH": os.defpath},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site_packages = Path(purelib)
    # The installed dependencies (and pip), never the repository: lines of a .pth are only
    # appended to sys.path, so the editable install's own .pth hook there is not run.
    (site_packages / "_onwatch_test_dependencies.pth").write_text(
        "\n".join(_dependency_paths(packages)) + "\n", encoding="utf-8"
    )
    home = root / "home"
    home.mkdir()
    image = Image(context, files, venv, site_packages, stage, home)

    install = subprocess.run(
        [
            str(image.bin / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--check-build-dependencies",
            "--no-index",
            "--no-cache-dir",
            "--disable-pip-version-check",
            str(context),
        ],
        cwd=home,
        env={"PATH": os.defpath, "HOME": str(home), "PIP_CONFIG_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = install.stdout + install.stderr
    # pyproject.toml's build backend comes from the test extra (no network to fetch it here).
    assert install.returncode == 0, f"pip install of the build context failed:\n{output}"
    return image


# --------------------------------------------------------------------------------------------
# The tests


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    stage = read_dockerfile(DOCKERFILE)
    assert stage.user, "the image runs as root: no USER in the final stage"
    assert stage.user.split(":", 1)[0] not in ROOT_USERS, f"USER {stage.user} is root"
    assert stage.healthcheck, "no HEALTHCHECK in the final stage"
    assert any("/healthz" in arg for arg in stage.healthcheck), stage.healthcheck
    assert stage.cmd and stage.cmd[:2] == ["onwatch", "serve"], stage.cmd
    database_url = stage.env.get("ONWATCH_DATABASE_URL", "")
    assert database_url.startswith("sqlite:////"), database_url
    database = database_url.removeprefix("sqlite:///")
    assert any(database.startswith(volume.rstrip("/") + "/") for volume in stage.volumes), (
        f"the SQLite database {database} is not in a VOLUME ({stage.volumes})"
    )


def test_package_is_installed_from_the_venv_not_the_repository(image: Image) -> None:
    probe = (
        "import json, receiver, receiver.cli\n"
        "print(json.dumps({'file': receiver.__file__, 'path': list(receiver.__path__),"
        " 'cli': receiver.cli.__file__}))"
    )
    output = image.run([str(image.bin / "python"), "-c", probe], image.env())
    found = json.loads(output.strip().splitlines()[-1])
    venv = str(image.site_packages.resolve())
    locations = [found["cli"], *found["path"]] + ([found["file"]] if found["file"] else [])
    for location in locations:
        assert str(Path(location).resolve()).startswith(venv + os.sep), (
            f"receiver is imported from {location}, not from the new venv {venv}"
        )


def test_every_package_file_is_installed(image: Image) -> None:
    """The package's non-Python files (migrations, templates, ...) ship too."""
    packages = _top_level_packages(image.context_files)
    missing = [
        rel
        for rel in image.context_files
        if rel.split("/", 1)[0] in packages
        and "__pycache__" not in rel.split("/")
        and not (image.site_packages / rel).exists()
    ]
    assert not missing, (
        "in the build context but not in the installed package (pyproject.toml's packages.find"
        " / package-data leave them out):\n  " + "\n  ".join(missing)
    )


def test_config_check_and_serve_answer_healthz(image: Image) -> None:
    stage = image.stage
    assert "ONWATCH_CONFIG" in stage.env, "the Dockerfile sets no ENV ONWATCH_CONFIG"
    assert "ONWATCH_DATABASE_URL" in stage.env, "the Dockerfile sets no ENV ONWATCH_DATABASE_URL"
    config_source = copied_source(stage, stage.env["ONWATCH_CONFIG"])
    config = image.context / config_source
    assert config.is_file(), f"{config_source} (ONWATCH_CONFIG) is not in the build context"
    env = image.env(
        ONWATCH_CONFIG=str(config),
        ONWATCH_DATABASE_URL=f"sqlite:///{image.home / 'onwatch.db'}",
    )

    image.run([str(image.bin / "onwatch"), "config", "check"], env)

    assert stage.cmd is not None
    image_port = _option(stage.cmd, "--port")
    port = free_port()
    argv = with_options(stage.cmd, {"--host": "127.0.0.1", "--port": str(port), "--workers": "1"})
    argv[0] = str(image.bin / argv[0])
    assert Path(argv[0]).is_file(), f"the package installs no {stage.cmd[0]} script"
    healthz = f"http://127.0.0.1:{port}/healthz"
    with serving(argv, env, image.home) as server:
        wait_for(
            lambda: server.poll() is not None or _healthz(healthz) == 200,
            timeout=READY_TIMEOUT_S,
            what=f"GET {healthz} answering 200",
        )
        assert server.poll() is None, f"onwatch serve exited with {server.returncode}"
        assert _healthz(healthz) == 200
        # The image's own HEALTHCHECK command, pointed at this port, passes.
        assert stage.healthcheck
        check = [arg.replace(f":{image_port}/", f":{port}/") for arg in stage.healthcheck]
        assert check != stage.healthcheck, (
            f"the HEALTHCHECK {stage.healthcheck} does not ask the CMD's port {image_port}"
        )
        if check[0] == "python":
            check[0] = str(image.bin / "python")
        image.run(check, env, timeout=15)


def _option(argv: list[str], name: str) -> str:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"the Dockerfile's CMD {argv} has no {name}")


def _healthz(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@contextmanager
def serving(argv: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` in its own session until the block ends: then SIGTERM, and SIGKILL to its
    process group after a timeout; its output is shown when the block failed."""
    log_path = cwd / f"serve-{os.getpid()}-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its group: the master, its workers and the scheduler
        )
    failed = False
    try:
        yield process
    except BaseException:
        failed = True
        raise
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever outlived the master
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
        if failed:
            text = log_path.read_text(encoding="utf-8", errors="replace")
            print(f"\n===== {shlex.join(argv)} =====\n{text}", file=sys.stderr)


def test_the_image_refuses_to_serve_the_network_without_an_api_token(image: Image) -> None:
    """The CMD as the image runs it (0.0.0.0, no token): one line and exit 2, nothing bound."""
    stage = image.stage
    assert stage.cmd is not None
    config = image.context / copied_source(stage, stage.env["ONWATCH_CONFIG"])
    database = image.home / "refused.db"
    env = image.env(ONWATCH_CONFIG=str(config), ONWATCH_DATABASE_URL=f"sqlite:///{database}")
    argv = [str(image.bin / stage.cmd[0]), *stage.cmd[1:]]
    result = subprocess.run(
        argv, cwd=image.home, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "without an API token" in result.stderr
    assert not database.exists()
