"""Shared test helpers: loading with the reader's tuning knobs (block size, per-thread
share: fields of ``LoadOptions``, not keywords of ``embload.load``), stand-ins for optional
reference packages, a recording progress bar, and the layer kernels' thread switch."""
import warnings

import pytest

import embload
from embload import LoadOptions, _layer


def load_tuned(path, *, block_size=None, min_piece=None, quiet=False, **kwargs):
    """``embload.load(path, **kwargs)`` with block_size / min_piece set (chunk boundaries
    are where readers break: tests read with tiny blocks)."""
    mmap = kwargs.pop("mmap", True)
    fields = dict(kwargs)
    if fields.get("dtype") is None:
        fields.pop("dtype", None)
    if block_size is not None:
        fields["block_size"] = block_size
    if min_piece is not None:
        fields["min_piece"] = min_piece
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        return embload.load(path, mmap=mmap, options=LoadOptions(**fields))


class Optional:
    """A stand-in for an optional reference package (gensim, keras_preprocessing, ...).

    Its first use inside a test imports the package, and skips that test where the package
    is not installed: a missing reference skips the tests that need it, not the whole file.
    ``Optional("gensim.models", "KeyedVectors")`` stands for that class (calls and
    attributes pass through)."""

    def __init__(self, module, attribute=None):
        self._module = module
        self._attribute = attribute

    def _target(self):
        import pytest

        module = pytest.importorskip(self._module)
        return module if self._attribute is None else getattr(module, self._attribute)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._target(), name)

    def __call__(self, *args, **kwargs):
        return self._target()(*args, **kwargs)


class RecordingBar:
    """A progress bar that records what it was told (for "the bar reaches its total")."""

    def __init__(self, total):
        self.total = total
        self.done = 0

    def update(self, n):
        self.done += n

    def close(self):
        pass


@pytest.fixture
def threaded():
    """Let the layer kernels use threads even on the tests' small data."""
    old = _layer._set_parallel_min_elements(0)
    yield
    _layer._set_parallel_min_elements(old)
