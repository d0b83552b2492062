"""Small policies shared by every stage: thread counts and progress bars."""

import os
import sys

import numpy as np

__all__ = ["resolve_threads", "progress_enabled", "make_progress"]

# A progress bar is shown by default only for work over this many bytes.
PROGRESS_MIN_BYTES = 64 * 1024 * 1024
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


def progress_enabled(progress, total_bytes=None):
    """None: on when stderr is a terminal and the work is large; else bool(progress)."""
    if progress is None:
        if total_bytes is not None and total_bytes < PROGRESS_MIN_BYTES:
            return False
        try:
            return sys.stderr.isatty()
        except (AttributeError, ValueError):
            return False
    return bool(progress)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, *args, **kwargs):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def make_progress(progress, *, total=None, desc=None, unit="B"):
    """A tqdm bar (bytes by default) or a do-nothing stand-in with the same methods."""
    if not progress_enabled(progress, total if unit == "B" else None):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, unit_divisor=1024,
                dynamic_ncols=True, leave=False)
