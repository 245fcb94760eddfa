"""setup.py's choice between the compiled and the pure-Python build. The builds themselves
run for real elsewhere: scripts/compiled-tests.sh (the wheel, compiled, under the unit
tests), tests/test_install.py (the README's editable install pure, the pipx install
compiled), tests/test_deploy_image.py (the image compiled)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOP = Path(__file__).resolve().parents[1]


@pytest.fixture
def setup_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location("autobot_exporter_setup", TOP / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not __main__: defines, builds nothing
    return module


def test_this_machine_compiles(setup_py, monkeypatch):
    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    assert setup_py.why_pure_python() is None  # ./run-tests.sh installs gcc and the headers


def test_the_variable_asks_for_pure_python(setup_py, monkeypatch):
    monkeypatch.setenv("AUTOBOT_EXPORTER_PURE_PYTHON", "1")
    assert setup_py.why_pure_python() == "AUTOBOT_EXPORTER_PURE_PYTHON is set"


def test_no_compiler_means_pure_python(setup_py, monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    assert setup_py.why_pure_python().startswith("no C compiler")


def test_no_headers_mean_pure_python(setup_py, monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    monkeypatch.setattr(setup_py.sysconfig, "get_paths", lambda: {"include": str(tmp_path)})
    assert setup_py.why_pure_python() == "no Python headers (Debian: apt install python3-dev)"


@pytest.mark.parametrize(
    "command",
    ["egg_info", "dist_info", "sdist", "editable_wheel"],  # metadata, sources, pip install -e
)
def test_only_a_build_compiles(setup_py, monkeypatch, command):
    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    monkeypatch.setattr(sys, "argv", ["setup.py", command])
    assert setup_py.ext_modules() == []


def test_the_compiled_modules_are_the_ingest_path(setup_py):
    for module in setup_py.COMPILED_MODULES:
        assert (TOP / module).is_file(), module
    assert "exporter/workflows/tracker.py" in setup_py.COMPILED_MODULES
    # the module whose __file__ tells the build it belongs to (build_info's compiled label)
    assert "exporter/workflows/metrics.py" in setup_py.COMPILED_MODULES
