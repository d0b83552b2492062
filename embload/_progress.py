"""Progress bars: one policy for every long piece of work (tqdm, on by default on a terminal).

``progress=None`` shows a bar when stderr is a terminal and the work is large;
``True``/``False`` force it. A bar reaches its total when the work is done: callers
update it by what they did, and :func:`make_progress` bars are closed by the caller.
"""

import sys

__all__ = ["progress_enabled", "make_progress", "complete", "PROGRESS_MIN_BYTES"]

# A progress bar is shown by default only for work over this many bytes.
PROGRESS_MIN_BYTES = 64 * 1024 * 1024


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
    total = None
    n = None

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


def complete(bar, done=None):
    """Mark the work of ``bar`` done: the bar shows 100% when the work is finished.

    Where the total was an estimate (text written, records announced), the total becomes
    what was done; where less was counted than the total (a scan that stopped early once
    it had found everything, bytes a decompressor held back), the rest is counted."""
    total = getattr(bar, "total", None)
    if done is None:   # what the bar has counted (tqdm's n); callers may say it themselves
        done = getattr(bar, "n", None)
    if total is None or done is None:
        return
    if done < total:
        bar.update(total - done)
    elif done > total:
        bar.total = done
        bar.refresh()
