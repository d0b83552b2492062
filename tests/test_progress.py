"""Progress bars reach 100% when the work is done, for every reader and writer."""
import gzip

import numpy as np
import pytest

import embload
from embload import _progress, align, cache, read, write


@pytest.fixture
def bars(monkeypatch):
    """Real tqdm bars (progress=True); each is checked as it is closed."""
    made = []
    original = _progress.make_progress

    def recording(progress, *, total=None, desc=None, unit="B"):
        bar = original(progress, total=total, desc=desc, unit=unit)
        close = bar.close
        closed = []

        def checked_close():
            # once: tqdm's __del__ closes again when the cyclic GC collects the bar
            if progress and not closed:
                closed.append(True)
                made.append((desc, bar.n, bar.total))
            close()
        bar.close = checked_close
        return bar

    for module in (read, align, write, cache):
        monkeypatch.setattr(module, "make_progress", recording, raising=False)
    monkeypatch.setattr(_progress, "make_progress", recording)
    return made


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3000)]
    matrix = rng.normal(size=(3000, 20)).astype(np.float32)
    paths = {"glove": tmp_path / "v.txt", "vec": tmp_path / "v.vec", "bin": tmp_path / "v.bin"}
    for fmt, path in zip(("glove", "word2vec", "word2vec-binary"), paths.values()):
        embload.save((words, matrix), path, format=fmt)
    paths["gz"] = tmp_path / "v.txt.gz"
    paths["gz"].write_bytes(gzip.compress(paths["glove"].read_bytes()))
    return words, matrix, paths


def test_readers_reach_the_total(bars, files):
    _, _, paths = files
    for path in paths.values():
        embload.load(path, progress=True)
        embload.load_aligned(path, {"w1": 1, "w2": 2}, progress=True)   # stops early
    assert len(bars) == 8
    for desc, done, total in bars:
        assert total and done == total, desc


def test_writers_reach_the_total(bars, files, tmp_path):
    words, matrix, _ = files
    for name in ("o.txt", "o.vec.gz", "o.bin", "o.embload"):
        embload.save((words, matrix), tmp_path / name, progress=True)
    assert len(bars) == 4
    for desc, done, total in bars:
        assert total and done == total, desc
