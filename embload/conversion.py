"""``embload.convert``: any readable vectors file to any writable format, in one call.

Formats read: everything :func:`embload.load` reads (GloVe, word2vec text, word2vec binary,
fastText ``.vec``, compressed or not) and embload cache folders. Formats written: those of
:func:`embload.save` (``"glove"``, ``"word2vec"``, ``"word2vec-binary"``, compressed by the
path's suffix) and ``"embload"`` (the instant-open cache folder, :mod:`embload.cache`).
"""

import os

import numpy as np

# One list of output formats and compression suffixes: the writer's (``embload.save``).
from .write import FORMATS as WRITABLE, _COMPRESSORS as _COMPRESSION
# The value types written: the cache's (the text and binary writers take the same three).
from .cache import _DTYPES

__all__ = ["convert", "read_vocab", "infer_format"]


def infer_format(path):
    """The output format a destination path implies, or None when it does not say.

    ``*.embload`` (or an existing cache folder) -> ``"embload"``; ``*.bin`` -> ``"word2vec-binary"``;
    ``*.vec`` -> ``"word2vec"``; compression suffixes (``.gz``, ``.bz2``, ``.xz``, ``.zip``: the
    ones :func:`embload.save` writes) are looked through. ``*.txt`` says
    nothing (GloVe and word2vec text both use it): pass ``to=``.
    """
    from .cache import is_cache

    path = os.fspath(path)
    name = os.path.basename(path.rstrip("/\\")).lower()
    if name.endswith(".embload") or is_cache(path):
        return "embload"
    for suffix in _COMPRESSION:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith(".bin"):
        return "word2vec-binary"
    if name.endswith(".vec"):
        return "word2vec"
    return None


def read_vocab(vocab):
    """The words of a vocabulary given as a file path or an iterable of words.

    A file holds one word per line (UTF-8; ``\\n`` or ``\\r\\n``; blank lines skipped). When
    every line is ``word count`` (word2vec's ``-save-vocab``, GloVe's ``vocab_count``), the
    counts are dropped. Duplicates keep their first position. Returns a list.
    """
    if isinstance(vocab, (str, os.PathLike)):
        path = os.fspath(vocab)
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            from .errors import EmbeddingFormatError

            raise EmbeddingFormatError("vocabulary file is not valid UTF-8", path=path, line=line,
                                       text=data[exc.start:exc.start + 40]) from exc
        if text.startswith("\ufeff"):
            text = text[1:]
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
        lines = [line for line in lines if line.strip()]
        pairs = [line.rsplit(None, 1) for line in lines]
        if lines and all(len(p) == 2 and p[1].isdigit() for p in pairs):
            lines = [p[0] for p in pairs]
        words = lines
    elif isinstance(vocab, dict):
        words = list(vocab)
    else:
        words = list(vocab)
        for word in words:
            if not isinstance(word, str):
                raise TypeError(f"vocab must hold words (str), got {type(word).__name__} {word!r}")
    return list(dict.fromkeys(words))


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
    from .vectors import Vectors

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
    from .cache import is_cache, open_cache, write_cache

    src = os.fspath(src)
    dst = os.fspath(dst)
    if to is None:
        to = infer_format(dst)
        if to is None:
            raise ValueError(f"cannot tell the output format from the name {dst!r}; give it with to= "
                             f"(command line: --to), one of {', '.join(WRITABLE)}")
    if to not in WRITABLE:
        raise ValueError(f"to must be one of {', '.join(WRITABLE)}, got {to!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    if dtype is not None:
        dtype = np.dtype(dtype).name
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be float16, float32 or float64, got {dtype!r}")
    if _same_file(src, dst):
        raise ValueError(f"source and destination are the same path {src!r}; write elsewhere")
    words = None if vocab is None else read_vocab(vocab)

    if is_cache(src):
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
        from .read import load

        vectors = load(src, limit=limit, dtype=dtype or "float32", progress=progress, **load_kwargs)

    if to == "embload":
        write_cache(vectors, dst, source=src if os.path.isfile(src) else None,
                    source_format=vectors.format, progress=progress)
    else:
        from .write import save

        save(vectors, dst, format=to, progress=progress)
    return vectors


def _load_vocab(src, words, limit, dtype, progress, load_kwargs):
    """Only the rows of ``words`` from a vectors file."""
    from .vectors import Vectors

    try:
        from .align import load_aligned
    except ImportError:
        load_aligned = None
    if load_aligned is not None and not load_kwargs:
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
        from .formats import detect_format

        return Vectors(kept, matrix, path=src, format=detect_format(src))
    from .read import load

    full = load(src, dtype=dtype or "float32", progress=progress, **load_kwargs)
    return _select(full, words, limit)
