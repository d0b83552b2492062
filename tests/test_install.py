"""Installed, not checked out: the README's first command from a built wheel.

``python -m build`` makes the sdist and then the wheel from that sdist (so the sdist is
proven to hold what a build needs); the wheel goes into a fresh virtual environment and
``embload demo`` runs there from an empty folder, with the package's own copy of the
sample data. About two minutes on two cores (most of it compiling the extensions), so it
runs in CI rather than being marked slow.

The venv borrows numpy and tqdm from this interpreter (``--system-site-packages``) to
spare a download; the test checks that ``embload`` itself is the wheel's, not the
checkout's or an editable install's.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from embload.demo import SAMPLE_FILES

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = "Scripts" if os.name == "nt" else "bin"
# what a build of the checkout must not see: outputs of earlier builds and local state
_NOT_SOURCES = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "*.so",
                                      "*.c", ".hypothesis", ".pytest_cache", "bench_data")


def _run(command, **kwargs):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env,
                            **kwargs)
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    pytest.importorskip("build")
    work = tmp_path_factory.mktemp("install")
    source = work / "src"
    # a copy: the build must not write into the checkout (egg-info, Cython's .c files)
    # (scripts/*.c are skipped too: the sdist does not carry scripts/)
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES, symlinks=True)
    result = _run([sys.executable, "-m", "build", "--outdir", work / "dist", source], timeout=1500)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    wheel, = (work / "dist").glob("embload-*.whl")
    sdist, = (work / "dist").glob("embload-*.tar.gz")
    return work, wheel, sdist


def test_wheel_ships_sources_and_data_not_generated_c(built):
    _, wheel, _ = built
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [n for n in names if n.endswith(".c")]
    for pyx in (ROOT / "embload").glob("_*.pyx"):
        assert f"embload/{pyx.name}" in names
        assert any(n.startswith(f"embload/{pyx.stem}.") and n.endswith((".so", ".pyd")) for n in names)
    for stub in (ROOT / "embload").glob("_*.p[xy][di]"):
        assert f"embload/{stub.name}" in names
    for name in SAMPLE_FILES + ("README.md",):
        assert f"embload/data/{name}" in names
    assert "embload/py.typed" in names


def test_sdist_holds_what_a_build_needs_and_no_c(built):
    _, _, sdist = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert not [n for n in names if n.endswith(".c")]
    assert {"pyproject.toml", "setup.py", "README.md", "LICENSE"} <= names
    assert {f"data/{name}" for name in SAMPLE_FILES} <= names
    assert {f"embload/{p.name}" for p in (ROOT / "embload").glob("_*.pyx")} <= names
    assert {f"embload/src/{h.name}" for h in (ROOT / "embload" / "src").glob("*.h")} <= names


@pytest.fixture(scope="module")
def venv(built):
    work, wheel, _ = built
    env_dir = work / "venv"
    result = _run([sys.executable, "-m", "venv", "--system-site-packages", env_dir], timeout=300)
    assert result.returncode == 0, result.stderr
    python = env_dir / BIN / ("python.exe" if os.name == "nt" else "python")
    # --force-reinstall: an embload installed outside the venv (editable, in CI) must not
    # count as "already satisfied"; --no-index --no-deps: numpy and tqdm come from outside
    result = _run([python, "-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall",
                   "--disable-pip-version-check", wheel], timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    away = work / "elsewhere"  # an empty folder: no data/, no embload/ on the path
    away.mkdir()
    return env_dir, python, away


def test_import_is_the_wheel(venv):
    env_dir, python, away = venv
    result = _run([python, "-c", "import embload; print(embload.__file__)"], cwd=away, timeout=120)
    assert result.returncode == 0, result.stderr
    location = pathlib.Path(result.stdout.strip()).resolve()
    assert env_dir.resolve() in location.parents, location


def test_demo_runs_from_any_folder(venv):
    env_dir, python, away = venv
    result = _run([env_dir / BIN / "embload", "demo", "--folds", "2", "--epochs", "2", "--no-progress"],
                  cwd=away, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. data: 200 labelled sentences from ")
    assert lines[0].endswith(os.path.join("embload", "data", "polarity.tsv") + " (100 positive)")
    assert str(env_dir) in lines[0] or str(env_dir.resolve()) in lines[0]
    assert "rows found: 55.4% of the vocabulary" in result.stdout
    assert "missing rows only" in result.stdout
    assert not list(away.iterdir())  # it wrote nothing where it ran


def test_demo_help_from_the_wheel(venv):
    _, python, away = venv
    result = _run([python, "-m", "embload", "demo", "--help"], cwd=away, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--epochs N" in result.stdout and "(default: 30)" in result.stdout


def test_missing_data_is_one_line_exit_1(venv):
    env_dir, python, away = venv
    result = _run([python, "-c", "import embload.demo as d, os; print(os.path.dirname(d.__file__))"],
                  cwd=away, timeout=120)
    shutil.rmtree(pathlib.Path(result.stdout.strip()) / "data")
    result = _run([env_dir / BIN / "embload", "demo"], cwd=away, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("embload demo: error: the sample data is missing")
