"""``embload.convert``: any readable vectors file to any writable format, in one call.

Formats read: everything :func:`embload.load` reads (GloVe, word2vec text, word2vec binary,
fastText ``.vec``, compressed or not) and embload cache folders. Formats written: those of
:func:`embload.save` (``"glove"``, ``"word2vec"``, ``"word2vec-binary"``, compressed by the
path's suffix) and ``"embload"`` (the instant-open cache folder, :mod:`embload.cache`).
"""

import os

import numpy as np

from ._atomic import check_destination
from ._checks import check_count, check_dtype
from .align import load_aligned
from .cache import open_cache, write_cache
from .formats import WRITABLE_FORMATS as WRITABLE, detect_format
from .read import load, source_kind
from .vectors import Vectors
from .vocabulary import read_vocab
from .write import infer_format, save

__all__ = ["convert"]


def _same_file(src, dst):
    """True when ``dst`` names ``src`` itself, through symbolic links or hard links too."""
    if os.path.realpath(src) == os.path.realpath(dst):
        return True
    try:
        return os.path.samefile(src, dst)
    except OSError:   # dst does not exist yet (or src does not: load() says so)
        return False


def _select(vectors, words, limit):
    """Rows of ``vectors`` for ``words`` (vocabulary order), at most ``limit`` of them."""
    index = vectors.key_to_index
    kept = [w for w in words if w in index]
    if limit is not None:
        kept = kept[:limit]
    rows = np.fromiter((index[w] for w in kept), dtype=np.intp, count=len(kept))
    # One gather: memory is the source (often memory-mapped) plus the selected rows.
    return Vectors(kept, np.ascontiguousarray(vectors.vectors[rows]), path=vectors.path, format=vectors.format)


def convert(src, dst, *, to=None, limit=None, vocab=None, dtype=None, progress=None, **load_kwargs):
    """Read ``src`` in any format and write it to ``dst`` in another.

    Parameters
    ----------
    src : str or os.PathLike
        A vectors file (format detected from its bytes) or an embload cache folder.
    dst : str or os.PathLike
        Where to write; written atomically (an error leaves the old file or none).
    to : {"glove", "word2vec", "word2vec-binary", "embload"}, optional
        Output format; default from ``dst``'s suffix (see :func:`infer_format`).
    limit : int, optional
        At most this many rows: the first ``limit`` of the file, or with ``vocab`` the first
        ``limit`` vocabulary words found.
    vocab : str, os.PathLike or iterable of str, optional
        Keep only these words (a file: one word per line, see :func:`read_vocab`). The
        output rows follow the vocabulary's order; words not in ``src`` are left out.
    dtype : {"float16", "float32", "float64"}, optional
        Dtype of the output values (default: float32, or the cache's own dtype).
    progress : bool, optional
        Progress bars (default: on for large work when stderr is a terminal).
    **load_kwargs
        Passed to :func:`embload.load` (``errors=``, ``threads=``, ``format=``, ``member=``).

    Returns
    -------
    Vectors
        What was written (its matrix is the one in memory; none is left once it is dropped).

    Notes
    -----
    Memory: the matrix is held once. A text or binary source is parsed into one matrix of
    its final size and written from there; a cache source is memory-mapped, so nothing is
    read but the rows written. With ``vocab``, a cache source gathers only the kept rows;
    a file source is read with :func:`embload.load_aligned`, which parses only the wanted
    rows, so memory is the kept rows (twice at most, for the final compaction).
    """
    src = os.fspath(src)
    dst = os.fspath(dst)
    if to is None:
        to = infer_format(dst)
        if to is None:
            raise ValueError(f"cannot tell the output format from the name {dst!r}; give it with to= "
                             f"(command line: --to), one of {', '.join(WRITABLE)}")
    if to not in WRITABLE:
        raise ValueError(f"to must be one of {', '.join(WRITABLE)}, got {to!r}")
    limit = check_count(limit, "limit")
    if dtype is not None:
        dtype = check_dtype(dtype)
    if _same_file(src, dst):
        raise ValueError(f"source and destination are the same path {src!r}; write elsewhere")
    # before the read, which may take minutes: the write would refuse this only after it
    check_destination(dst, "dir" if to == "embload" else "file")
    words = None if vocab is None else read_vocab(vocab)

    if source_kind(src) == "cache":
        vectors = open_cache(src, mmap=True, limit=None if words is not None else limit)
        if words is not None:
            vectors = _select(vectors, words, limit)
        if dtype is not None and vectors.vectors.dtype != dtype:
            # converted chunk by chunk by the writer would be leaner; astype is one copy of the output
            vectors = type(vectors)(vectors.words, vectors.vectors.astype(dtype), key_to_index=vectors.key_to_index,
                                    path=vectors.path, format=vectors.format)
    elif words is not None:
        vectors = _load_vocab(src, words, limit, dtype, progress, load_kwargs)
    else:
        vectors = load(src, limit=limit, dtype=dtype or "float32", progress=progress, **load_kwargs)

    if to == "embload":
        write_cache(vectors, dst, source=src if os.path.isfile(src) else None,
                    source_format=vectors.format, progress=progress)
    else:
        save(vectors, dst, format=to, progress=progress)
    return vectors


def _load_vocab(src, words, limit, dtype, progress, load_kwargs):
    """Only the rows of ``words`` from a vectors file."""
    if not load_kwargs:
        # Row i + 1 of the aligned matrix is words[i]; row 0 is padding.
        word_index = {w: i + 1 for i, w in enumerate(words)}
        aligned = load_aligned(src, word_index, oov="zeros", dtype=dtype or "float32", progress=progress)
        found = np.asarray(aligned.found, dtype=bool)
        rows = np.flatnonzero(found[1:]) + 1
        if limit is not None:
            rows = rows[:limit]
        kept = [words[r - 1] for r in rows.tolist()]
        matrix = np.ascontiguousarray(aligned.matrix[rows])
        del aligned
        return Vectors(kept, matrix, path=src, format=detect_format(src))
    full = load(src, dtype=dtype or "float32", progress=progress, **load_kwargs)
    return _select(full, words, limit)
