"""How many threads a stage uses: one policy, shared by every stage."""

import os

import numpy as np

__all__ = ["resolve_threads", "available_cores", "MAX_THREADS"]

# Thread counts above max(this, 4 x cores) are cut to it.
MAX_THREADS = 64


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_threads(threads):
    """None -> all cores; n > 0 -> n; 0 or negative -> all cores minus |n| (at least 1).

    ``threads=0`` and ``-1`` both mean all cores. A NumPy integer is accepted,
    ``bool`` is not. n > 0 is capped at ``max(MAX_THREADS, 4 * cores)``.

    The same convention as scikit-learn's ``n_jobs`` (-1 = all cores), so that
    ``threads=-1`` means what people expect.
    """
    cores = available_cores()
    if threads is None:
        return cores
    if isinstance(threads, (bool, np.bool_)) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
    threads = int(threads)
    if threads > 0:
        # Some oversubscription is allowed (tests use it), but an absurd count
        # makes OpenMP fail to create threads and crash, or overflow a C int.
        return min(threads, max(MAX_THREADS, 4 * cores))
    return max(1, cores + threads + (1 if threads < 0 else 0))
