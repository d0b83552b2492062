"""``embload.load``: a vectors file on disk -> :class:`~embload.Vectors`.

Stages: :mod:`embload.formats` sniffs the format, :mod:`embload._source` streams
the (decompressed) bytes, :mod:`embload._parse` parses them into one matrix and a
word arena, and this module decodes the words, drops duplicates and wraps it up.
"""

import os
import sys

from . import _parse
from ._progress import complete, make_progress
from ._source import open_source
from .cache import is_cache, open_cache, is_fresh, write_cache
from .errors import EmbeddingFormatError, warn
from .formats import CACHE_FORMAT, _sniff
from .options import LoadOptions
from .vectors import Vectors
from .wordtable import word_table

__all__ = ["load", "load_with", "load_cached", "source_kind", "no_vectors_reason"]

_TEXT_BYTES_PER_VALUE = 9   # "-0.20036 ": a typical GloVe value with its separator
_COMPRESSION_RATIO = 3      # text vectors compress about 3:1
_MAX_INFLATE = 1032         # the most deflate (and about bz2/xz) can expand data
# Binary vectors are copied out of the read block into the matrix: a block that stays in
# the last-level cache between the read and the copy loads faster than a larger one
# (scripts/bench_load.py measures it: its "embload 32MiB blocks" row).
_BINARY_BLOCK_SIZE = 8 << 20


def load(path, *, format="auto", limit=None, dtype=None, errors="strict", threads=None,
         progress=None, member=None, mmap=True, options=None):
    """Load a GloVe, word2vec (text or binary) or fastText ``.vec`` file, or a fastText model.

    A fastText / floret model (``.bin``, ``.ftz``) gives the vectors of its dictionary's
    words, as fastText writes them to ``.vec`` (see :func:`embload.load_fasttext` for a
    vector for any word).

    Parameters
    ----------
    path : str or os.PathLike
        The file; gzip, bz2, xz and zip files are decompressed (told by their bytes).
    format : {"auto", "glove", "word2vec", "word2vec-binary", "fasttext-bin"}
        ``"auto"`` decides from the bytes (:func:`embload.detect_format`).
    limit : int, optional
        Read only the first ``limit`` vectors, and stop reading the file there.
    dtype : {"float32", "float16", "float64"}, optional
        Each value is ``float(token)`` rounded once to this type. Default: float32 for
        files; for an ``embload`` cache folder, the dtype it was stored in (a different
        dtype means a converted copy instead of the memory map).
    errors : str
        For words that are not valid UTF-8, as in ``bytes.decode`` ("strict" raises).
    threads : int, optional
        Threads parsing text; None = all cores.
    progress : bool, optional
        A tqdm bar over the bytes read; None = on for large files when stderr is a terminal.
    member : str, optional
        Which file of a zip archive to read (needed when it holds several).
    mmap : bool, default True
        For an ``embload`` cache folder (:mod:`embload.cache`): map the matrix read-only
        (opens in O(1) time, whatever its size) instead of reading it into memory.
    options : LoadOptions, optional
        All of the file reader's settings in one validated object (including the block
        size and per-thread share used for tuning); it replaces the keywords above, which
        must then be left at their defaults.

    Returns
    -------
    Vectors
        Words in file order; the first of duplicated words is kept (with one warning).

    Raises
    ------
    EmbeddingFormatError
        The file is not in the format: the message names the file, the line (or
        record) and the offending text; a truncated file says that it ends early; a
        file without any vector (empty, blank) says so. A word that is not UTF-8 under
        ``errors="strict"`` raises :class:`~embload.errors.WordDecodeError`, which is
        also a ``UnicodeDecodeError``.

    Notes
    -----
    A header count that does not match the data is not an error (files in the wild
    have such headers): all the vectors present are loaded, with a warning. A word
    is everything before the last ``dim`` fields of its line, so words may contain
    spaces (GloVe 840B).
    """
    path = _check_path(path)
    if options is not None:
        if not isinstance(options, LoadOptions):
            raise TypeError(f"options must be an embload.LoadOptions, not {type(options).__name__}")
        given = {name: value for name, value in (("format", format), ("limit", limit), ("dtype", dtype),
                 ("errors", errors), ("threads", threads), ("progress", progress), ("member", member))
                 if value != _LOAD_DEFAULTS[name]}
        if given:
            raise TypeError(f"give either options= or the keywords {', '.join(given)}, not both")
    if options is not None:
        format, limit, dtype = options.format, options.limit, options.dtype
    if os.path.isdir(path) and format not in ("auto", CACHE_FORMAT):
        raise ValueError(f"{path} is a folder (an embload cache); format={format!r} does not apply to it")
    if source_kind(path) == "cache":
        return open_cache(path, mmap=mmap, limit=limit, dtype=dtype)
    if options is None:
        options = LoadOptions(format=format, limit=limit, dtype="float32" if dtype is None else dtype,
                              errors=errors, threads=threads, progress=progress, member=member)
    return load_with(path, options)


_LOAD_DEFAULTS = {"format": "auto", "limit": None, "dtype": None, "errors": "strict", "threads": None,
                  "progress": None, "member": None}


def _check_path(path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    return os.fsdecode(os.fspath(path))


def source_kind(path):
    """``"cache"`` for an embload cache folder, ``"file"`` for anything else that exists.

    The one place that decides between the two (load, alignment, conversion and the
    command line all ask here). A folder that is not a cache is an error that says so
    (a cache whose writing was interrupted has no ``meta.json`` and is such a folder).

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    EmbeddingFormatError
        A folder that is not an embload cache.
    """
    path = _check_path(path)
    if not os.path.isdir(path):
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
        return "file"
    if is_cache(path):
        return "cache"
    raise EmbeddingFormatError(
        "a folder that is not an embload cache (it has no meta.json naming the embload-cache "
        "format); give a vectors file, or a folder written by embload.save(..., format='embload')",
        path=path)


def load_with(path, opts):
    """:func:`load` of a file (not a cache folder) with a :class:`~embload.LoadOptions`."""
    path = _check_path(path)
    info, head = _sniff(path, member=opts.member)
    if info.format == "fasttext-bin" or opts.format == "fasttext-bin":
        if info.format != opts.format and opts.format != "auto":
            raise EmbeddingFormatError(f"format={opts.format!r}, but the file is "
                                       f"{'a fastText model' if info.format == 'fasttext-bin' else repr(info.format)}",
                                       path=path)
        from .fasttext import load_vectors

        return load_vectors(path, opts)
    line_bytes = _mean_line_bytes(head)
    del head
    fmt = info.format if opts.format == "auto" else opts.format
    if fmt != info.format:
        if fmt == "word2vec-binary" or info.format == "word2vec-binary":
            warn(f"{path}: reading as {fmt!r} although its bytes look like {info.format!r}", UserWarning)
    header_lines = info.header_lines
    skip = info.header_length
    count = info.count
    dim = info.dim
    if fmt == "glove" and header_lines:
        # the caller says there is no header: the first line is data
        warn(f"{path}: reading as 'glove' although the first line looks like a word2vec "
             f"header 'count dim'; it becomes a vector", UserWarning)
        # sniff() saw a header only for a first line of exactly two integers, so as data
        # that line is a word and one number: dim is 1 (no need to read the file again)
        header_lines, skip, count, dim = 0, (3 if info.bom else 0), None, 1
    elif fmt in ("word2vec", "word2vec-binary") and count is None:
        raise EmbeddingFormatError(f"format {fmt!r} needs a first line 'count dim'", path=path, line=1)
    limit = -1 if opts.limit is None else opts.limit
    if dim is None:  # no data line at all: almost always a failed download
        raise EmbeddingFormatError(no_vectors_reason(path, opts.member), path=path)
    if dim <= 0:
        raise EmbeddingFormatError(f"the header says dim {dim}; vectors need at least one number",
                                   path=path, line=1)

    with open_source(path, opts.member) as src:
        check_header_dim(dim, src, path)
        name = os.path.basename(path)
        bar = make_progress(opts.progress, total=src.total, desc=f"loading {name}")
        try:
            if fmt == "word2vec-binary":
                matrix, arena, offsets, stats = _parse.read_binary(
                    # a damaged count past C's range: no file holds that many records anyway
                    src, dim=dim, skip_bytes=skip, count=min(count, sys.maxsize),
                    est_rows=_estimate_rows(src, dim, count, binary=True),
                    dtype=opts.dtype, limit=limit, threads=opts.resolved_threads,
                    block_size=min(opts.block_size, _BINARY_BLOCK_SIZE), min_piece=opts.min_piece,
                    bar=bar, path=path)
                lineno = None
            else:
                matrix, arena, offsets, lineno, stats = _parse.read_text(
                    src, dim=dim, skip_bytes=skip, first_line=header_lines + 1,
                    est_rows=_estimate_rows(src, dim, count, binary=False, line_bytes=line_bytes),
                    dtype=opts.dtype, limit=limit, threads=opts.resolved_threads,
                    block_size=opts.block_size, min_piece=opts.min_piece, bar=bar, path=path)
            complete(bar)
        finally:
            bar.close()

    n = matrix.shape[0]
    if n == 0 and count != 0 and opts.limit != 0:
        # a header and nothing after it (a header "0 dim" is an honest empty file)
        raise nothing_after_header(count, path)
    if count is not None and n != count and not (opts.limit is not None and n == opts.limit):
        what = "lines" if lineno is not None else "records"
        warn_count_mismatch(path, count, n, f"loaded {n} (if the file was cut short the last {what} "
                                            f"are missing)")
    if lineno is None and stats.get("trailing"):
        warn(f"{path}: data after the {count} records announced by the header was ignored", UserWarning)
    words, key_to_index, matrix = word_table(arena, offsets, lineno, matrix, opts.errors, path)
    return Vectors(words, matrix, key_to_index=key_to_index, path=path, format=fmt)


def nothing_after_header(count, path):
    """The error for a header and nothing after it (a header "0 dim" is an honest empty
    file): almost always a download or a write cut short."""
    return EmbeddingFormatError(f"no vectors after the header (it announces {count})", path=path)


def warn_count_mismatch(path, count, held, consequence):
    """The header's vector count is not what the file holds: a file cut short, most often."""
    warn(f"{path}: the header announces {count} vectors but the file holds {held}; {consequence}",
         UserWarning)


def check_header_dim(dim, src, path):
    """A damaged header dim must be an error naming the line, not a MemoryError or
    OverflowError from allocating one row (here and in ``load_aligned``). Every value takes
    at least one byte; the slack keeps small dims (a header-only file "3 300") on the usual
    paths."""
    most_bytes = src.total if src.compression in (None, "zip") else src.total * _MAX_INFLATE
    if dim > most_bytes + (1 << 20):
        raise EmbeddingFormatError(
            f"the header says dim {dim}, more values than the file's data can hold; "
            f"the header is damaged", path=path, line=1)


def _mean_line_bytes(head):
    """Mean length of the lines in the head of the data, or None for fewer than 4."""
    lines = head.count(b"\n")
    return (head.rfind(b"\n") + 1) / lines if lines >= 4 else None


def _estimate_rows(src, dim, count, *, binary, line_bytes=None):
    """Rows to allocate up front: the header's count, capped by what the file's size
    can hold (a lying or damaged header must not allocate terabytes); without a
    count, the data size over the mean length of the first lines (``line_bytes``,
    else a guess from ``dim``), plus 5%.

    Too many rows cost only address space (pages never written are never touched,
    and the matrix is shrunk in place at the end); too few cost a realloc."""
    if src.compression is None:
        data_bytes = src.size
    elif src.compression == "zip":
        data_bytes = src.total
    else:
        data_bytes = src.size * _COMPRESSION_RATIO
    if binary:
        most = data_bytes // (4 * dim + 1) + 1
    else:
        most = data_bytes // (2 * dim) + 1
    if count is not None:
        return max(1, min(count, most)) if src.compression in (None, "zip") else max(1, min(count, 4 * most))
    if line_bytes is None:
        line_bytes = dim * _TEXT_BYTES_PER_VALUE + 8
    return max(1, int(data_bytes / line_bytes * 1.05) + 16)


def no_vectors_reason(path, member=None):
    """Why a file without a single data line holds no vectors: empty, or only blanks."""
    from ._source import open_source

    with open_source(path, member) as src:
        empty = src.total == 0 if src.compression in (None, "zip") else not src.read(1)
    if empty:
        return "the file is empty: no vectors in it (0 bytes of data); a failed or interrupted download?"
    return "no vectors in the file (only blank lines); a failed or interrupted download?"


def load_cached(source, cache=None, *, progress=None, **load_kwargs):
    """Open the cache of ``source`` if it is current, else load ``source`` and write the cache.

    Parameters
    ----------
    source : str or os.PathLike
        A vectors file in any format :func:`embload.load` reads.
    cache : str or os.PathLike, optional
        The cache folder; default ``source + ".embload"``.
    **load_kwargs
        Passed to :func:`embload.load` when the source has to be parsed (``errors``,
        ``threads``, ``format``...). ``limit`` and ``dtype`` are not accepted: a cache holds the
        whole file; slice or convert the result instead.

    Returns
    -------
    Vectors
        Memory-mapped from the cache.
    """
    for bad in ("limit", "dtype", "mmap", "options"):
        if bad in load_kwargs:
            raise TypeError(f"load_cached() does not take {bad}=; the cache holds the whole file")
    source = os.fspath(source)
    cache = source + ".embload" if cache is None else os.fspath(cache)
    if is_fresh(cache, source):
        return open_cache(cache)
    vectors = load(source, progress=progress, **load_kwargs)
    write_cache(vectors, cache, source=source, source_format=vectors.format, progress=progress)
    del vectors
    return open_cache(cache)
