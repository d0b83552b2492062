"""Thread-count policy shared by every stage (embload._threads)."""
import numpy as np
import pytest

from embload import Embedding
from embload._threads import MAX_THREADS, available_cores, resolve_threads


def test_resolve_threads_conventions():
    cores = available_cores()
    assert resolve_threads(None) == cores
    assert resolve_threads(0) == cores
    assert resolve_threads(-1) == cores
    assert resolve_threads(-(cores + 5)) == 1
    assert resolve_threads(3) == 3
    assert resolve_threads(np.int64(2)) == 2 and type(resolve_threads(np.int64(2))) is int


@pytest.mark.parametrize("bad", [True, False, np.True_, 2.0, "2"])
def test_resolve_threads_rejects_non_ints(bad):
    with pytest.raises(TypeError, match="threads must be an int"):
        resolve_threads(bad)


@pytest.mark.parametrize("huge", [100_000, 2**40])
def test_huge_thread_counts_are_capped_not_a_crash(huge):
    cap = max(MAX_THREADS, 4 * available_cores())
    assert resolve_threads(huge) == cap
    # was a segfault (OpenMP failing to start 100000 threads) or an OverflowError
    layer = Embedding(1000, 64, threads=huge)
    idx = np.arange(1000).repeat(200)
    assert np.array_equal(layer(idx), layer.weights[idx])
