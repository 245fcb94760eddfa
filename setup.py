"""Compiles the ingest path with mypyc where this machine can; pure Python elsewhere.

The modules below decode nothing themselves (msgspec does) but run every event through
the tracker; compiled, they cost about a quarter less CPU per event (docs/performance.md).
The same source runs either way, and CI tests both (scripts/compiled-tests.sh). The id
windows' C module (``exporter/workflows/_fifo_ids.c``: the dedup window and closed pairs,
whose Python fallback is ``SeenIds``, and the history's map, whose fallback is
``DictIdMap``) is built with them, and for an editable install too: it has no Python
source to shadow.

Pure Python, with a line on stderr saying why, when:
- the install is editable (``pip install -e .``): a compiled module would shadow its
  source, and an edit would change nothing until the next build (silent: no reason to
  print; the C windows are still built);
- there is no C compiler or no Python headers (``python3-dev`` on Debian);
- compiling fails (a compiler newer than mypyc's generated code expects, say): compiling
  is an optimisation, and an install must not fail for it;
- ``AUTOBOT_EXPORTER_PURE_PYTHON=1`` is set (nothing is compiled, the C windows neither).
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

INGEST_PATH = (
    "budget",
    "dedup",
    "families",
    "history",
    "id_map",
    "labels",
    "metrics",
    "pairing",
    "records",
    "tracker",
)
COMPILED_MODULES = [f"exporter/workflows/{name}.py" for name in INGEST_PATH]
BUILD_COMMANDS = {"bdist_wheel", "build", "build_ext"}
"""The setup.py commands that build extensions."""
EDITABLE_COMMAND = "editable_wheel"
"""What pip runs for an editable install: the C windows only."""
ID_WINDOWS = Extension("exporter.workflows._fifo_ids", ["exporter/workflows/_fifo_ids.c"])


def announce_pure_python(reason: str) -> None:
    print(f"autobot-exporter: installing pure Python: {reason}", file=sys.stderr)


def why_pure_python() -> str | None:
    """Why this build cannot or should not compile; None when it compiles."""
    if os.environ.get("AUTOBOT_EXPORTER_PURE_PYTHON"):
        return "AUTOBOT_EXPORTER_PURE_PYTHON is set"
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler})"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        return "no Python headers (Debian: apt install python3-dev)"
    return None


def ext_modules() -> list[Extension]:
    commands = set(sys.argv[1:])
    if not (BUILD_COMMANDS | {EDITABLE_COMMAND}) & commands:
        return []  # metadata or an sdist
    reason = why_pure_python()
    if reason is not None:
        announce_pure_python(reason)
        return []
    if EDITABLE_COMMAND in commands:
        return [ID_WINDOWS]
    # a build requirement (pyproject.toml), imported only when it compiles
    from mypyc.build import mypycify  # noqa: PLC0415

    try:
        return [*mypycify(COMPILED_MODULES, opt_level="3"), ID_WINDOWS]
    except (Exception, SystemExit) as error:  # mypyc type-checks first, and exits on an error
        announce_pure_python(f"mypyc failed: {error}")
        return [ID_WINDOWS]


class OptionalBuildExt(build_ext):
    """All or nothing: when one module fails to compile, none is installed compiled (a
    module mypyc compiled needs the shared library it built with the others)."""

    def run(self) -> None:
        try:
            super().run()
        except (CCompilerError, ExecError, PlatformError) as error:
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            announce_pure_python(f"compiling failed: {error}")


if __name__ == "__main__":  # as pip's build backend runs it; tests import the functions
    setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
