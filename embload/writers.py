"""``embload.save``: write vectors as GloVe, word2vec text, word2vec binary or an embload cache.

Formats written::

    glove            word v1 v2 ... vN\\n            (no header)
    word2vec         count dim\\n then GloVe lines   (fastText .vec is this format)
    word2vec-binary  count dim\\n then, per word,    (the C tool's format; gensim reads it)
                     word + b" " + dim float32 little-endian + b"\\n"
    embload          the instant-open cache folder (embload.cache.write_cache)

Text values are the shortest decimal that reads back to the same value (so a round
trip is bit-exact and the file small), written in parallel by C code (``_write.pyx``)
into one buffer per part of the rows, written in row order: the bytes do not depend
on the thread count. float32 values are spelled as NumPy spells them (``str(np.float32)``,
which is what gensim writes: the same vectors give the same file); float16 values
as the float32 they widen to (so the text reads back exactly as float16 and as
float32); float64 values as Python's ``repr``. The binary format holds float32:
float64 rows are rounded to nearest, float16 rows widened exactly.

The format comes from ``format=`` or, when omitted, from the file name: ``*.bin`` ->
word2vec-binary, ``*.vec`` -> word2vec, ``*.embload`` -> embload. ``*.txt`` says
nothing (GloVe and word2vec text both use it), so ``format=`` is required there.
A ``.gz``, ``.bz2``, ``.xz`` or ``.zip`` suffix compresses the output (a zip holds one
member named after the file without ``.zip``).

Writes are atomic: everything goes to a temporary file next to the target, which
replaces the target only once complete; an error or Ctrl-C removes the temporary
file and leaves an existing target untouched.
"""

import bz2
import gzip
import lzma
import os
import stat
import tempfile
import threading
import zipfile

import numpy as np

from ._runtime import make_progress, resolve_threads
from ._words import WordList

__all__ = ["save", "FORMATS"]

FORMATS = ("glove", "word2vec", "word2vec-binary", "embload")
_COMPRESSORS = (".gz", ".bz2", ".xz", ".zip")

# Rows are formatted in parts whose worst-case text is about this many bytes, each by one
# thread (real text is ~4x shorter).
BLOCK_BYTES = 16 * 1024 * 1024

# Every character str.isspace() accepts except "\n" (already refused in words).
_SPACES = [c for c in map(chr, range(0x3001)) if c.isspace() and c != "\n"]
# First UTF-8 bytes of those characters: a word whose first byte is none of these does
# not start with whitespace. One NumPy gather over the words' first bytes replaces ~30
# substring scans of the joined words; the few candidates are then checked as str.
_SPACE_LEAD = np.zeros(256, dtype=bool)
_SPACE_LEAD[[c.encode("utf-8")[0] for c in _SPACES]] = True
# The same for the end of a word: last bytes, and the byte before the last of the
# multi-byte ones (their last bytes are continuation bytes that most Cyrillic or CJK
# words end with too; the byte before keeps those from all being candidates).
_SPACE_TAIL = np.zeros(256, dtype=bool)
_SPACE_TAIL[[c.encode("utf-8")[-1] for c in _SPACES]] = True
_SPACE_TAIL_PREV = np.zeros(256, dtype=bool)
_SPACE_TAIL_PREV[[c.encode("utf-8")[-2] for c in _SPACES if len(c.encode("utf-8")) > 1]] = True

# Called after each part is written with (rows_done, rows_total); tests set it to
# interrupt a write half way. None in normal use.
_after_block = None


def save(vectors, path, format=None, *, header=None, progress=None, threads=None, fsync=False):
    """Write ``vectors`` to ``path`` atomically.

    Parameters
    ----------
    vectors : Vectors, or a (words, matrix) pair
        Words (str) and their (n, dim) float16/float32/float64 matrix; other real
        dtypes are written as float32.
    path : str or os.PathLike
        Target file (folder for ``"embload"``). ``.gz``/``.bz2``/``.xz``/``.zip``
        compresses.
    format : {"glove", "word2vec", "word2vec-binary", "embload"}, optional
        Default: from the file name (``.bin``, ``.vec``, ``.embload``); required otherwise.
    header : bool, optional
        Write the ``count dim`` line. Default: True for word2vec formats, False for
        GloVe (``format="glove", header=True`` is word2vec text). The binary format
        always has it.
    progress : bool, optional
        Progress bar over the bytes written (default: on for large work on a terminal).
    threads : int, optional
        Threads formatting text (None: all cores; see ``resolve_threads``).
    fsync : bool, default False
        Flush the file to the disk before renaming it into place (survives a power cut,
        costs the time of the disk write).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        Unknown format, or a word the format cannot hold (empty, a line break in any
        format, a space in word2vec-binary), named with its row, before anything is written.
    """
    path = os.fspath(path)
    words, matrix = _unpack(vectors)
    if format is None:
        from .convert import infer_format

        format = infer_format(path)   # looks through .gz/.bz2/.xz/.zip itself
        if format is None:
            raise ValueError(f"cannot tell the format from the name {path!r}; pass format= one of "
                             f"{', '.join(FORMATS)} (.txt is used by both glove and word2vec)")
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if format == "embload":
        from .cache import write_cache
        from .vectors import Vectors

        if not isinstance(vectors, Vectors):
            vectors = Vectors(words, matrix)
        write_cache(vectors, path, progress=progress)
        return path
    binary = format == "word2vec-binary"
    if header is None:
        header = format != "glove"
    elif binary and not header:
        raise ValueError("the word2vec-binary format always has a header; header=False is not possible")
    arena, offsets = _word_arena(words, binary, format)
    n, dim = matrix.shape
    threads = resolve_threads(threads)

    with _AtomicFile(path, fsync=fsync) as out:
        est = n * (dim * (4 if binary else 11) + 8)
        bar = make_progress(progress, total=est, desc=f"writing {os.path.basename(path)}")
        try:
            if header:
                out.write(f"{n} {dim}\n".encode("ascii"))
            _write_rows(out, matrix, arena, offsets, binary, threads, bar)
        finally:
            bar.close()
    return path


def _unpack(vectors):
    if hasattr(vectors, "words") and hasattr(vectors, "vectors"):
        words, matrix = vectors.words, vectors.vectors
    elif hasattr(vectors, "index_to_key") and hasattr(vectors, "vectors"):  # gensim KeyedVectors
        words, matrix = vectors.index_to_key, vectors.vectors
    else:
        try:
            words, matrix = vectors
        except (TypeError, ValueError):
            raise TypeError("vectors must be a Vectors, a gensim KeyedVectors or a (words, matrix) pair, "
                            f"not {type(vectors).__name__}") from None
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"the matrix must be 2-D (words x dim), got shape {matrix.shape}")
    if len(words) != matrix.shape[0]:
        raise ValueError(f"{len(words)} words but {matrix.shape[0]} rows; they must match")
    if matrix.dtype.kind not in "fiub" or matrix.dtype.kind == "f" and matrix.dtype.itemsize > 8:
        raise TypeError(f"cannot write a matrix of dtype {matrix.dtype}; use float16, float32 or float64")
    if matrix.dtype.kind != "f":   # any byte order of float16/32/64 is kept (_write_rows swaps it)
        matrix = matrix.astype(np.float32)
    if not isinstance(words, list) and not _keeps_arena(words):
        words = list(words)
    return words, matrix


def _keeps_arena(words):
    """Whether the words live in one UTF-8 arena: a WordList (``WordList.utf8_arena()``),
    or another container offering ``_utf8_arena() -> (arena, offsets)`` (the tests'
    stand-in for a WordList with odd separators)."""
    return isinstance(words, WordList) or hasattr(words, "_utf8_arena")


def _utf8_arena(words):
    if isinstance(words, WordList):
        return words.utf8_arena()[:2]
    return words._utf8_arena()


def _word_arena(words, binary, format):
    """UTF-8 bytes of every word as ``(arena, offsets)``, word ``i`` being
    ``arena[offsets[i]:offsets[i + 1] - 1]``, after checking that the format can hold
    each one.

    Words that already live in such an arena (``WordList`` of a loaded file, strict
    UTF-8) are used as they are, checked with NumPy over the bytes. Others are
    checked and encoded as one joined string (C loops, not a Python test per word);
    the offending word is looked up only when there is one.
    """
    if _keeps_arena(words) and getattr(words, "errors", "strict") == "strict":
        arena, offsets = _utf8_arena(words)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        _check_arena(words, arena, offsets, binary, format)
        return arena, offsets
    if not words:
        return b"", np.zeros(1, dtype=np.int64)
    try:
        joined = "\n".join(words)
    except TypeError:
        i = next(i for i, w in enumerate(words) if not isinstance(w, str))
        raise TypeError(f"word at row {i} is {type(words[i]).__name__} {words[i]!r}, not str") from None
    bad_chars = ("\r",) + ((" ",) if binary else ())
    if joined.count("\n") != len(words) - 1:
        bad_chars = ("\n",) + bad_chars
    for ch in bad_chars:
        if ch in joined:
            _raise_bad_char(words, ch, format)
    try:
        arena = joined.encode("utf-8", "surrogateescape") + b"\n"
    except UnicodeEncodeError as exc:
        _check_starts(words, binary, format)
        i = joined.count("\n", 0, exc.start)
        raise ValueError(f"word {words[i]!r} at row {i} cannot be written as UTF-8: {exc.reason}") from exc
    data = np.frombuffer(arena, dtype=np.uint8)
    # "\n" is never inside a UTF-8 (or surrogateescape) sequence: the newlines are the
    # len(words) separators
    offsets = np.empty(len(words) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = np.flatnonzero(data == 10) + 1
    _check_starts(words, binary, format, rows=_edge_suspects(data, offsets, binary))
    return arena, offsets


def _edge_suspects(data, offsets, binary):
    """Rows (ascending) whose word may be empty or, in text formats, start or end with
    whitespace, found with NumPy over the bytes (``data[offsets[i]:offsets[i + 1] - 1]``
    is word ``i``); ``_check_starts`` then checks only those as str."""
    starts = offsets[:-1]
    ends = offsets[1:] - 1        # the separator after each word
    # an empty word (a NumPy test: "\n\n" in the joined words is a slow substring
    # search, "\n" being everywhere); refused before any other
    empty = ends == starts
    if binary or empty.any():
        return np.flatnonzero(empty).tolist()
    # every word has a byte: starts and ends - 1 index data
    suspect = _SPACE_LEAD[data[starts]]
    last = data[ends - 1]
    tail = _SPACE_TAIL[last]
    multi = np.flatnonzero(tail & (last >= 0x80))
    tail[multi] = _SPACE_TAIL_PREV[data[ends[multi] - 2]]
    return np.flatnonzero(suspect | tail).tolist()


def _raise_bad_char(words, ch, format, row=None):
    """Raise the error for the first word (or the word at ``row``) holding ``ch``."""
    i = row if row is not None else next(i for i, w in enumerate(words) if ch in w)
    what = {"\n": "a newline", "\r": "a carriage return", " ": "a space"}[ch]
    raise ValueError(f"word {words[i]!r} at row {i} contains {what}, which the {format} format "
                     f"cannot hold (it ends the {'word' if ch == ' ' else 'line'}); "
                     "rename or drop it before saving")


def _check_starts(words, binary, format, rows=None):
    """Refuse an empty word, or (text formats) one starting or ending with whitespace."""
    for i in range(len(words)) if rows is None else rows:
        w = words[i]
        if not w:
            raise ValueError(f"the word at row {i} is empty; the {format} format cannot hold an empty word")
        if not binary and (w[0].isspace() or w[-1].isspace()):
            where = "starts" if w[0].isspace() else "ends"
            raise ValueError(f"word {w!r} at row {i} {where} with whitespace, which text readers strip; "
                             "rename it before saving")


def _check_arena(words, arena, offsets, binary, format):
    """The checks of ``_word_arena`` on words already in an arena, over its bytes."""
    n = len(offsets) - 1
    if n <= 0:
        return
    data = np.frombuffer(arena, dtype=np.uint8)
    if offsets[0] < 0 or np.any(np.diff(offsets) < 1) or offsets[-1] - 1 > data.shape[0]:
        raise ValueError("the words' UTF-8 arena and offsets do not match (offsets must increase "
                         f"and end within the {data.shape[0]} bytes)")
    body = data[offsets[0]:offsets[-1] - 1]
    seps = offsets[1:-1] - 1 - offsets[0]   # separator bytes between words, inside body
    sep_bytes = body[seps]
    for ch in ("\n", "\r") + ((" ",) if binary else ()):
        if np.count_nonzero(body == ord(ch)) > np.count_nonzero(sep_bytes == ord(ch)):
            hits = np.setdiff1d(np.flatnonzero(body == ord(ch)), seps, assume_unique=True)
            row = int(np.searchsorted(offsets, hits[0] + offsets[0], side="right")) - 1
            _raise_bad_char(words, ch, format, row)
    _check_starts(words, binary, format, rows=_edge_suspects(data, offsets, binary))


def _write_rows(out, matrix, arena, offsets, binary, threads, bar):
    """Format parts of the rows in C on worker threads and write them in row order.

    Each part (rows whose worst-case text fills about ``BLOCK_BYTES``) is formatted by
    one worker without the GIL into its own buffer; this thread writes the finished
    parts in order (the write releases the GIL too), so formatting and writing overlap.
    Plain Python workers rather than an OpenMP team per block: between and at the end
    of parallel regions OpenMP threads spin, which on 2 cores took a quarter of the CPU
    that formatting and the kernel's write needed; and a part queue balances a thread
    that a busy machine slows down. At most ``2 * threads + 1`` parts are in flight,
    their buffers reused. Binary records are plain copies: one worker.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import wait as concurrent_wait

    from ._write import format_block, row_bound

    n, dim = matrix.shape
    if n == 0:
        return
    if not matrix.flags.c_contiguous or not matrix.dtype.isnative:
        matrix = np.ascontiguousarray(matrix, dtype=matrix.dtype.newbyteorder("="))
    if binary:
        threads = 1
    bound = row_bound(dim, binary)
    per_row = bound + int(np.diff(offsets[: min(n, 1000) + 1]).max())
    rows_per_part = max(1, min(n, BLOCK_BYTES // per_row))
    depth = 2 * threads + 1
    pending = deque()   # (future, buffer, stop) in row order
    free = []

    def write_first():
        fut, buf, stop = pending.popleft()
        used = fut.result()
        out.write(memoryview(buf)[:used])
        bar.update(used)
        free.append(buf)
        if _after_block is not None:
            _after_block(stop, n)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="embload-format") as pool:
        try:
            start = 0
            while start < n:
                stop = min(n, start + rows_per_part)
                if len(pending) >= depth:
                    write_first()
                # sized for its own rows: long words are allowed anywhere
                need = int(offsets[stop] - offsets[start]) + (stop - start) * bound
                buf = free.pop() if free else None
                if buf is None or buf.shape[0] < need:
                    buf = np.empty(need, dtype=np.uint8)
                pending.append((pool.submit(format_block, matrix, arena, offsets, start, stop, binary, buf),
                                buf, stop))
                start = stop
            while pending:
                write_first()
        except BaseException:
            # no kernel may still be formatting when the caller discards the file
            for fut, _, _ in pending:
                fut.cancel()
            concurrent_wait([fut for fut, _, _ in pending])
            raise


class _AtomicFile:
    """A binary file object that becomes ``path`` only when the ``with`` block succeeds.

    The temporary file lives in the target's folder (so the final ``os.replace`` is a
    rename on the same file system) and is removed on any exception, KeyboardInterrupt
    included. Compression is chosen by the suffix of ``path``.
    """

    def __init__(self, path, *, fsync=False):
        self.path = path
        self.fsync = fsync
        self._raw = None
        self._tmp = None
        self._stream = None
        self._zip = None

    def __enter__(self):
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(2, "the folder to write into does not exist", folder)
        if os.path.isdir(self.path):
            raise IsADirectoryError(21, "is a folder; give a file name to write", self.path)
        fd, self._tmp = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".", suffix=".tmp",
                                         dir=folder)
        try:
            self._raw = os.fdopen(fd, "wb")
            lower = self.path.lower()
            if lower.endswith(".gz"):
                # mtime=0: the same vectors give the same bytes
                self._stream = gzip.GzipFile(filename=os.path.basename(self.path)[:-3], mode="wb",
                                             fileobj=self._raw, compresslevel=6, mtime=0)
            elif lower.endswith(".bz2"):
                self._stream = bz2.BZ2File(self._raw, "wb")
            elif lower.endswith(".xz"):
                self._stream = lzma.LZMAFile(self._raw, "wb")
            elif lower.endswith(".zip"):
                self._zip = zipfile.ZipFile(self._raw, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
                member = os.path.basename(self.path)[:-4] or "vectors"
                self._stream = self._zip.open(member, "w", force_zip64=True)
            else:
                self._stream = self._raw
        except BaseException:
            self._discard()
            raise
        return self._stream

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._discard()
            return False
        try:
            if self._stream is not self._raw:
                self._stream.close()
            if self._zip is not None:
                self._zip.close()
            self._raw.flush()
            if self.fsync:
                os.fsync(self._raw.fileno())
            self._raw.close()
            os.chmod(self._tmp, _default_mode(self.path))
            old = _hold_replaced(self.path)
            try:
                os.replace(self._tmp, self.path)
            finally:
                _release_in_background(old)
        except BaseException:
            self._discard()
            raise
        return False

    def _discard(self):
        for closer in (self._stream, self._zip, self._raw):
            if closer is not None:
                try:
                    closer.close()
                except Exception:
                    pass
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass


# Replacing a large file frees its storage inside the rename when the rename drops
# its last link: ~70 ms per 500 MB on tmpfs, more on some disks. Holding the old
# file open across the rename and closing it in a helper thread moves that work
# off the caller's path; the new file is in place either way.
RELEASE_IN_BACKGROUND_BYTES = 64 * 1024 * 1024


def _hold_replaced(path):
    """A descriptor of the large regular file ``path`` is about to replace, or None."""
    if os.name != "posix":   # elsewhere an open file cannot be replaced
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size >= RELEASE_IN_BACKGROUND_BYTES:
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _release_in_background(fd):
    if fd is not None:
        try:
            threading.Thread(target=os.close, args=(fd,), name="embload-release", daemon=True).start()
        except BaseException:
            os.close(fd)
            raise


def _default_mode(path):
    """The target's current permissions, or what a new file would get (0o666 less the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
