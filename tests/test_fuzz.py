"""The fuzz targets of ``tests/fuzz_targets.py``, in the normal suite.

Three parts: every kept input (``tests/fuzz_corpus/<target>/``, each once crashed or hung)
is replayed; every target gets a short hypothesis-driven byte fuzz from its seeds (a few
seconds each, so CI fuzzes every parser on every run); and ``scripts/fuzz.py`` itself is
run for a moment with atheris when atheris is installed. Long coverage-guided runs:
``python scripts/fuzz.py --all --seconds 600``.
"""
import os
import pathlib
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_targets

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Kept inputs that still break the contract, by file name: replayed as strict xfails
# (the test starts failing - as it should - once the bug is fixed and this entry stays).
KNOWN_FAILURES = {}


def _kept_cases():
    cases = []
    for name in fuzz_targets.TARGETS:
        for path in fuzz_targets.corpus_files(name):
            marks = ()
            if path.name in KNOWN_FAILURES:
                marks = pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[path.name])
            cases.append(pytest.param(name, path, id=f"{name}/{path.name[:20]}", marks=marks))
    return cases


def test_corpus_folders_name_targets():
    # a kept input under a misspelt folder would never be replayed
    folders = [p.name for p in fuzz_targets.CORPUS.iterdir() if p.is_dir()]
    assert set(folders) <= set(fuzz_targets.TARGETS)


@pytest.mark.parametrize("name, path", _kept_cases())
def test_kept_input_keeps_the_contract(name, path):
    fuzz_targets.check(name, path.read_bytes())


@pytest.mark.parametrize("name", sorted(fuzz_targets.TARGETS))
def test_seeds_load(name):
    # the seeds are valid inputs: a target whose seeds all fail fuzzes only its error path
    seeds = fuzz_targets.SEEDS[name]()
    assert seeds, f"{name} has no seeds (is data/ there?)"
    for data in seeds:
        fuzz_targets.check(name, data)


def test_check_lets_only_the_contract_through(monkeypatch):
    raised = {b"value": ValueError, b"unicode": UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
              b"type": TypeError, b"memory": MemoryError, b"key": KeyError}

    def target(data):
        raise raised[data]

    monkeypatch.setitem(fuzz_targets.TARGETS, "_raise", target)
    fuzz_targets.check("_raise", b"value")
    fuzz_targets.check("_raise", b"unicode")
    for outside in (b"type", b"memory", b"key"):
        with pytest.raises(raised[outside]):
            fuzz_targets.check("_raise", outside)


# --- a short byte fuzz of every target --------------------------------------------------
# Mutations of a seed, as a coverage-guided fuzzer makes them: overwrite, insert, delete,
# truncate, and splice in bytes that parsers branch on.
_TOKENS = [b"\n", b"\r\n", b" ", b"\t", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"-", b"e",
           b"1e999", b"nan", b"inf", b"0x1p3", b"9" * 25, b"-0", b"3 2\n", b"99999999999 300\n",
           b"0 0\n", b'"', b"{", b"}", b"[]", b"null", b"\\u0000", b"\x1f\x8b", b"PK\x03\x04"]

_edit = st.tuples(
    st.sampled_from(["overwrite", "insert", "delete", "truncate", "token"]),
    st.floats(0, 1),
    st.binary(min_size=1, max_size=8),
    st.sampled_from(_TOKENS),
)


def _mutate(seed, edits):
    data = bytearray(seed)
    for op, where, blob, token in edits:
        at = int(where * len(data))
        if op == "overwrite":
            data[at:at + len(blob)] = blob
        elif op == "insert":
            data[at:at] = blob
        elif op == "delete":
            del data[at:at + len(blob) * 8]
        elif op == "truncate":
            del data[at:]
        else:
            data[at:at] = token
    return bytes(data)


@pytest.mark.parametrize("name", sorted(fuzz_targets.TARGETS))
def test_short_fuzz(name):
    seeds = fuzz_targets.SEEDS[name]() or [b""]

    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(seed=st.sampled_from(seeds), edits=st.lists(_edit, max_size=6),
           raw=st.one_of(st.none(), st.binary(max_size=64)))
    def fuzz(seed, edits, raw):
        fuzz_targets.check(name, raw if raw is not None else _mutate(seed, edits))

    fuzz()


def test_fuzz_script_runs_with_atheris(tmp_path):
    pytest.importorskip("atheris")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fuzz.py"), "vocab_file", "--seconds", "2",
         "--no-native", "--work", str(tmp_path / "work"), "--keep", str(tmp_path / "kept")],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done" in result.stderr and "runs in" in result.stderr
    assert any((tmp_path / "work" / "vocab_file").iterdir())  # the seeds, and what it found
    assert not any((tmp_path / "kept" / "vocab_file").iterdir())
