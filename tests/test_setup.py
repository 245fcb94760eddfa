"""setup.py's choice between the compiled and the pure-Python build. The builds themselves
run for real elsewhere: scripts/compiled-tests.sh (the wheel, compiled, under the unit
tests), tests/test_install.py (the README's editable install pure, the pipx install
compiled), tests/test_deploy_image.py (the image compiled), tests/test_dedup.py and
tests/test_id_map.py (the C id windows and map, which this test environment's editable
install built); here, a wheel built with a compiler that fails."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.repository import clean_copy

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


@pytest.mark.parametrize("command", ["egg_info", "dist_info", "sdist"])  # metadata, sources
def test_only_a_build_compiles(setup_py, monkeypatch, command):
    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    monkeypatch.setattr(sys, "argv", ["setup.py", command])
    assert setup_py.ext_modules() == []


def test_an_editable_install_builds_the_id_windows_alone(setup_py, monkeypatch):
    """pip install -e: the ingest path stays source (a compiled module would shadow it), but
    the C windows have no Python source to shadow."""
    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    monkeypatch.setattr(sys, "argv", ["setup.py", "editable_wheel"])
    assert setup_py.ext_modules() == [setup_py.ID_WINDOWS]
    assert all((TOP / source).is_file() for source in setup_py.ID_WINDOWS.sources)


def test_a_build_compiles_the_ingest_path_and_the_id_windows(setup_py, monkeypatch):
    """What mypyc makes of the modules is tested for real by scripts/compiled-tests.sh;
    here, that a build asks for both (mypyc's own type check depends on the installed
    dependencies' types, which the lowest-versions run changes)."""
    import mypyc.build  # noqa: PLC0415

    compiled = [setup_py.Extension("exporter.workflows.tracker", ["tracker.c"])]
    asked: list[object] = []

    def mypycify(modules: list[str], **options: object) -> list[object]:
        asked.append(modules)
        return compiled

    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    monkeypatch.setattr(sys, "argv", ["setup.py", "bdist_wheel"])
    monkeypatch.setattr(mypyc.build, "mypycify", mypycify)
    assert setup_py.ext_modules() == [*compiled, setup_py.ID_WINDOWS]
    assert asked == [setup_py.COMPILED_MODULES]


def test_the_compiled_modules_are_the_ingest_path(setup_py):
    for module in setup_py.COMPILED_MODULES:
        assert (TOP / module).is_file(), module
    assert "exporter/workflows/tracker.py" in setup_py.COMPILED_MODULES
    # the module whose __file__ tells the build it belongs to (build_info's compiled label)
    assert "exporter/workflows/metrics.py" in setup_py.COMPILED_MODULES


def test_a_mypyc_failure_means_pure_python(setup_py, monkeypatch, capsys):
    """mypyc type-checks before it generates C, and exits on an error (a dependency's new
    types, say): the install goes on, pure Python."""
    import mypyc.build  # noqa: PLC0415

    def fails(*args: object, **kwargs: object) -> None:
        raise SystemExit(1)

    monkeypatch.delenv("AUTOBOT_EXPORTER_PURE_PYTHON", raising=False)
    monkeypatch.setattr(sys, "argv", ["setup.py", "bdist_wheel"])
    monkeypatch.setattr(mypyc.build, "mypycify", fails)
    assert setup_py.ext_modules() == [setup_py.ID_WINDOWS]  # plain C, no mypyc needed
    assert "installing pure Python: mypyc failed" in capsys.readouterr().err


@pytest.mark.e2e
def test_a_compiler_failure_builds_a_pure_python_wheel(tmp_path):
    """Compiling is an optimisation: with a compiler that fails (CC=false), pip still builds
    the wheel, with no compiled module at all (one without the shared library mypyc built
    with it would not import)."""
    repository = clean_copy(tmp_path / "autobot-exporter")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), "."],
        cwd=repository,
        env={**os.environ, "CC": "false"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "installing pure Python: compiling failed" in built.stdout + built.stderr
    (wheel,) = tmp_path.glob("autobot_exporter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "exporter/workflows/tracker.py" in names
    assert not [name for name in names if name.endswith(".so")], names
