"""The ``embload`` cache: a folder that opens in milliseconds, whatever the matrix size.

Parse a 1-5 GB text file once, then open the result instantly on every later run::

    embload.convert("glove.840B.300d.txt", "glove.840B.embload")   # once
    vectors = embload.load("glove.840B.embload")                   # milliseconds, memory-mapped

Layout (format version 1)
-------------------------
A folder of plain files, each readable without embload::

    NAME.embload/
      meta.json     what the folder is (written last: a folder without it is not a cache)
      matrix.npy    the (count, dim) matrix, C order, float16/32/64: np.load(..., mmap_mode="r")
      words.txt     the words in row order, UTF-8, joined by "\\n" (no trailing newline)
      offsets.npy   only when some word contains "\\n": int64, count + 1 values; word i is
                    words.txt[offsets[i] : offsets[i + 1] - 1] (each word is followed by one
                    separator byte, the last one by an imaginary one)

Why a folder and not one file: ``matrix.npy`` is an ordinary NumPy file, so the matrix opens
with ``np.load(mmap_mode="r")`` (O(1), pages come in as rows are touched, shared between
processes) and any NumPy program can use it without embload; the words are a plain text
file anyone can ``grep``. That is also the neutral interchange form: ``np.save`` plus a word
list. One file would need a container of our own; to move a cache, ``tar`` the folder.

The words open as a :class:`~embload.WordList` over the bytes of ``words.txt``: one read, a
UTF-8 check and a split in C (no str object is made until a word is used).
``key_to_index`` is a C hash index built on first use (README, Benchmarks, has the times).

``meta.json`` fields::

    format       "embload-cache"           (anything else: not our folder)
    version      1                         (a newer version gets a clear error)
    count, dim   the matrix shape
    dtype        "float16" | "float32" | "float64"
    words        {"file": "words.txt", "encoding": "utf-8", "offsets": "offsets.npy" | null}
    files        {name: {"size": bytes, "crc32": int}} for every data file
    source       {"path", "format", "size", "mtime_ns", "head_tail_sha256"} | null
    embload_version, created

Checks: opening compares every file's size with ``files`` and the ``.npy`` header with
``count``/``dim``/``dtype`` (cheap: a truncated or half-copied cache is caught at once).
The CRC-32 of each file's full content is checked only by :func:`verify_cache`
(``embload info --verify``), because reading the whole matrix is what the cache avoids.
``source`` fingerprints the file the cache was made from: size, modification time and a
SHA-256 of its first and last MiB. That is what :func:`is_fresh` compares; a full hash of
a 5 GB source would cost seconds on every check, and the three together already catch a
file replaced, re-downloaded, appended to or truncated.

Writes are atomic (``embload._atomic.atomic_dir``): everything goes into a hidden temporary
folder next to the target, which is renamed into place at the end. An error, Ctrl-C,
SIGTERM or SIGHUP leaves the old cache (or none), never half a cache. An existing folder
that is not a cache is never replaced.
"""

import contextlib
import datetime
import hashlib
import io
import json
import os
import zlib

import numpy as np

from ._atomic import atomic_dir
from .errors import EmbeddingFormatError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "is_cache",
    "read_meta",
    "open_cache",
    "write_cache",
    "verify_cache",
    "source_fingerprint",
    "is_fresh",
]

FORMAT_NAME = "embload-cache"
FORMAT_VERSION = 1
META = "meta.json"
MATRIX = "matrix.npy"
WORDS = "words.txt"
OFFSETS = "offsets.npy"

_DTYPES = ("float16", "float32", "float64")
# Rows are written in chunks of about this many bytes (progress bar steps, bounded buffers).
_CHUNK_BYTES = 16 * 1024 * 1024
# Source fingerprint: hash of this many bytes at each end of the file.
_FINGERPRINT_BYTES = 1024 * 1024
# Words are arbitrary Python str: lone surrogates (from errors="surrogateescape" when
# loading) must survive a round trip, so they are stored as their 3-byte UTF-8 forms.
_WORD_ERRORS = "surrogatepass"


# --- reading -----------------------------------------------------------------------------
def is_cache(path):
    """True if ``path`` is a folder holding an embload cache's ``meta.json``.

    Cheap (reads one small file) and never raises: a damaged cache is still a cache here,
    so that :func:`open_cache` can say what is wrong with it.
    """
    try:
        meta_path = os.path.join(os.fspath(path), META)
        if not os.path.isfile(meta_path) or os.path.getsize(meta_path) > 1 << 20:
            return False
        with open(meta_path, "rb") as handle:
            meta = json.loads(handle.read().decode("utf-8"))
        return isinstance(meta, dict) and meta.get("format") == FORMAT_NAME
    except (OSError, ValueError, TypeError):
        return False


def _damaged(path, reason):
    return EmbeddingFormatError(reason, path=os.fspath(path))


def read_meta(path):
    """The validated ``meta.json`` of the cache at ``path`` (a dict).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    EmbeddingFormatError
        ``path`` is not an embload cache, or its files do not match its metadata.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    if not os.path.isdir(path):
        raise _damaged(path, "not an embload cache: a cache is a folder, this is a file")
    meta_path = os.path.join(path, META)
    if not os.path.isfile(meta_path):
        raise _damaged(path, f"not an embload cache: the folder has no {META} "
                             "(a cache whose writing was interrupted has none either; rebuild it)")
    try:
        with open(meta_path, "rb") as handle:
            meta = json.loads(handle.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _damaged(path, f"{META} is not valid JSON ({exc}); the cache is damaged, rebuild it") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise _damaged(path, f"not an embload cache: {META} has format {found!r}, "
                             f"expected {FORMAT_NAME!r}")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _damaged(path, f"{META} has no valid format version ({version!r})")
    if version > FORMAT_VERSION:
        raise _damaged(path, f"cache format version {version} is newer than this embload reads "
                             f"({FORMAT_VERSION}); upgrade embload or rebuild the cache")
    if version < 1:
        raise _damaged(path, f"{META} has an invalid format version {version}")
    for key in ("count", "dim"):
        value = meta.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _damaged(path, f"{META}: {key!r} must be a non-negative integer, got {value!r}")
    if meta.get("dtype") not in _DTYPES:
        raise _damaged(path, f"{META}: dtype must be one of {', '.join(_DTYPES)}, got {meta.get('dtype')!r}")
    words = meta.get("words")
    files = meta.get("files")
    if not isinstance(words, dict) or not isinstance(files, dict):
        raise _damaged(path, f"{META} lacks the 'words' or 'files' entries; the cache is damaged, rebuild it")
    if words.get("file") != WORDS or words.get("encoding") != "utf-8" or words.get("offsets") not in (None, OFFSETS):
        raise _damaged(path, f"{META}: unsupported words layout {words!r}")
    needed = [MATRIX, WORDS] + ([OFFSETS] if words.get("offsets") else [])
    for name in needed:
        entry = files.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("size"), int):
            raise _damaged(path, f"{META} does not record the size of {name}; the cache is damaged, rebuild it")
        file_path = os.path.join(path, name)
        try:
            size = os.path.getsize(file_path)
        except OSError:
            raise _damaged(path, f"{name} is missing; the cache is damaged, rebuild it") from None
        if size != entry["size"]:
            raise _damaged(path, f"{name} has {size} bytes but {META} says {entry['size']}: "
                                 "the cache is damaged (truncated or partly copied); rebuild it")
    return meta


def _open_matrix(path, meta, mmap):
    file_path = os.path.join(path, MATRIX)
    try:
        matrix = np.load(file_path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _damaged(path, f"{MATRIX} is not a readable .npy file ({exc}); rebuild the cache") from exc
    expected = (meta["count"], meta["dim"])
    if matrix.shape != expected or matrix.dtype != np.dtype(meta["dtype"]) or not matrix.flags.c_contiguous:
        raise _damaged(path, f"{MATRIX} holds a {matrix.shape} {matrix.dtype} array but {META} says "
                             f"{expected} {meta['dtype']} (C order); the cache is damaged, rebuild it")
    return matrix


def _read_words(path, meta, limit):
    """The words as a :class:`~embload.WordList` over the bytes of ``words.txt``: one read,
    a UTF-8 check and a split in C (no str objects until words are used)."""
    from ._words import WordList

    count = meta["count"]
    with open(os.path.join(path, WORDS), "rb") as handle:
        blob = handle.read()
    if count == 0:
        if blob:
            raise _damaged(path, f"{WORDS} holds words but {META} says 0; the cache is damaged, rebuild it")
        return WordList.empty()
    n = count if limit is None else min(limit, count)
    if meta["words"].get("offsets"):
        try:
            offsets = np.load(os.path.join(path, OFFSETS), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise _damaged(path, f"{OFFSETS} is not a readable .npy file ({exc})") from exc
        if offsets.shape != (count + 1,) or offsets.dtype.kind not in "iu":
            raise _damaged(path, f"{OFFSETS} has shape {offsets.shape}, expected ({count + 1},)")
        if offsets[0] != 0 or offsets[-1] != len(blob) + 1 or np.any(np.diff(offsets) < 1):
            raise _damaged(path, f"{OFFSETS} does not match {WORDS}; the cache is damaged, rebuild it")
        make = lambda: WordList(blob, offsets[: n + 1], _WORD_ERRORS)
    else:
        def make():
            words = WordList.from_lines(blob, _WORD_ERRORS)
            if len(words) != count:
                raise _damaged(path, f"{WORDS} holds {len(words)} words but {META} says {count}; "
                                     "the cache is damaged, rebuild it")
            if n < count:
                arena, offsets, _ = words.utf8_arena()
                words = WordList(arena, offsets[: n + 1], _WORD_ERRORS)
            return words
    try:
        return make()
    except ValueError as exc:
        if isinstance(exc, EmbeddingFormatError):
            raise
        raise _damaged(path, f"{WORDS}: {exc}; the cache is damaged, rebuild it") from exc


def _word_index(words, where):
    """``{word: row}`` built on first use: a cache opened to gather rows by number (or to
    hand the matrix to a model) never pays for it."""
    from ._words import WordIndex

    def on_duplicate(row, earlier):
        raise _damaged(where, f"{WORDS} holds the word {words[row]!r} twice (rows {earlier} and {row}); "
                              "the cache is damaged, rebuild it")

    return WordIndex(words, on_duplicate)


def open_cache(path, *, mmap=True, limit=None, dtype=None):
    """Open the cache folder at ``path`` as :class:`~embload.Vectors`.

    Parameters
    ----------
    path : str or os.PathLike
        A folder written by :func:`write_cache` (``embload.save(v, path, format="embload")``).
    mmap : bool, default True
        Map ``matrix.npy`` read-only instead of reading it: O(1) in the matrix size, and the
        pages are shared between processes that open the same cache. ``False`` reads the
        whole matrix into (writable) memory.
    limit : int, optional
        Only the first ``limit`` rows (a view, no copy).
    dtype : str or numpy dtype, optional
        Convert to this dtype (a copy, so no longer memory-mapped) when it differs from the
        stored one. None keeps the stored dtype.

    Returns
    -------
    Vectors
        ``format="embload"``; ``key_to_index`` is built on first use.

    Raises
    ------
    FileNotFoundError, EmbeddingFormatError
        Missing folder; not a cache, or damaged (the message says which file and how).
    """
    from .vectors import Vectors

    path = os.fspath(path)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0:
            raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
        limit = int(limit)
    meta = read_meta(path)
    matrix = _open_matrix(path, meta, mmap)
    words = _read_words(path, meta, limit)
    if limit is not None and limit < matrix.shape[0]:
        matrix = matrix[:limit]
    if dtype is not None and np.dtype(dtype) != matrix.dtype:
        target = np.dtype(dtype)
        if target.name not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        matrix = matrix.astype(target)
    return Vectors(words, matrix, key_to_index=_word_index(words, path), path=path, format="embload")


def verify_cache(path, *, progress=None):
    """Read every file of the cache and compare its CRC-32 with ``meta.json``.

    Slow by design (reads the whole matrix); opening
    only checks sizes. Returns the metadata; raises :class:`EmbeddingFormatError` naming
    the damaged file.
    """
    from ._progress import make_progress

    path = os.fspath(path)
    meta = read_meta(path)
    names = [MATRIX, WORDS] + ([OFFSETS] if meta["words"].get("offsets") else [])
    total = sum(meta["files"][name]["size"] for name in names)
    bar = make_progress(progress, total=total, desc="verify")
    try:
        for name in names:
            expected = meta["files"][name].get("crc32")
            if not isinstance(expected, int):
                raise _damaged(path, f"{META} records no crc32 for {name}")
            crc = 0
            with open(os.path.join(path, name), "rb") as handle:
                while True:
                    chunk = handle.read(_CHUNK_BYTES)
                    if not chunk:
                        break
                    crc = zlib.crc32(chunk, crc)
                    bar.update(len(chunk))
            if crc != expected:
                raise _damaged(path, f"{name} does not match its checksum (crc32 {crc:08x}, "
                                     f"{META} says {expected:08x}): the cache is damaged, rebuild it")
    finally:
        bar.close()
    _open_matrix(path, meta, True)
    words = _read_words(path, meta, None)
    _word_index(words, path).get("")  # builds the index: a repeated word is damage too
    return meta


# --- source fingerprint ------------------------------------------------------------------
def source_fingerprint(path):
    """``{"path", "size", "mtime_ns", "head_tail_sha256"}`` of a source file.

    The SHA-256 covers the first and last MiB only: cheap for a 5 GB file, and together
    with size and modification time it catches a replaced, re-downloaded, appended or
    truncated file.
    """
    path = os.fspath(path)
    stat = os.stat(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(_FINGERPRINT_BYTES))
        if stat.st_size > _FINGERPRINT_BYTES:
            handle.seek(max(_FINGERPRINT_BYTES, stat.st_size - _FINGERPRINT_BYTES))
            digest.update(handle.read(_FINGERPRINT_BYTES))
    return {
        "path": os.path.abspath(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "head_tail_sha256": digest.hexdigest(),
    }


def is_fresh(cache_path, source_path):
    """True if the cache at ``cache_path`` is intact (sizes) and was made from ``source_path`` as it is now."""
    try:
        meta = read_meta(cache_path)
        recorded = meta.get("source")
        if not isinstance(recorded, dict):
            return False
        current = source_fingerprint(source_path)
    except (OSError, EmbeddingFormatError):
        return False
    return all(recorded.get(key) == current[key] for key in ("size", "mtime_ns", "head_tail_sha256"))


# --- writing -----------------------------------------------------------------------------
def _write_npy(file_path, matrix, bar):
    """Write ``matrix`` as a .npy file in row chunks, in native byte order (what
    ``_open_matrix`` expects of ``meta["dtype"]``); return (size, crc32)."""
    native = matrix.dtype.newbyteorder("=")
    header = np.lib.format.header_data_from_array_1_0(matrix)
    header["fortran_order"] = False
    header["descr"] = np.lib.format.dtype_to_descr(native)
    # The header is built in memory so its checksum needs no read-back of the file.
    # Version 2.0 only when a 1.0 header cannot hold the shape (never in practice).
    head = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(head, header)
    except ValueError:
        head = io.BytesIO()
        np.lib.format.write_array_header_2_0(head, header)
    head = head.getvalue()
    crc = zlib.crc32(head)
    with open(file_path, "wb") as handle:
        handle.write(head)
        rows = matrix.shape[0]
        row_bytes = max(1, matrix.itemsize * int(np.prod(matrix.shape[1:])))
        step = max(1, _CHUNK_BYTES // row_bytes)
        # zlib.crc32 and file writes both release the GIL: checksum chunk k in a helper
        # thread while the main thread writes it, so the checksum costs no extra time.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for start in range(0, rows, step):
                chunk = np.ascontiguousarray(matrix[start:start + step], dtype=native)
                data = chunk.reshape(-1).view(np.uint8)
                if pending is not None:
                    crc = pending.result()
                pending = pool.submit(zlib.crc32, data, crc)
                handle.write(data)
                bar.update(data.nbytes)
            if pending is not None:
                crc = pending.result()
    return os.path.getsize(file_path), crc


def _write_bytes(file_path, data):
    with open(file_path, "wb") as handle:
        handle.write(data)
    return len(data), zlib.crc32(data)


def _word_bytes(words):
    """words.txt straight from a WordList's UTF-8 arena (no str is made), or None when the
    words are not such a list or need offsets.npy (a word holds a "\\n")."""
    from ._words import WordList

    if not isinstance(words, WordList):
        return None
    arena, offsets, plain = words.utf8_arena()
    if not plain:
        return None
    if len(words) == 0:
        return b""
    return bytes(memoryview(arena)[int(offsets[0]):int(offsets[len(words)]) - 1])


def _check_target(path):
    """Raise if ``path`` exists and is something we must not replace."""
    if not os.path.lexists(path):
        return
    if os.path.isdir(path) and not os.path.islink(path):
        if is_cache(path) or not os.listdir(path):
            return
        raise FileExistsError(17, "exists and is not an embload cache; refusing to replace it", path)
    raise FileExistsError(17, "exists and is not a folder; an embload cache is a folder, refusing to replace it", path)


def write_cache(vectors, path, *, source=None, source_format=None, progress=None, fsync=False, **kwargs):
    """Write ``vectors`` as an embload cache folder at ``path``, atomically.

    Parameters
    ----------
    vectors : Vectors
        Words and a 2-D float16/float32/float64 matrix (a memory map is fine: it is read
        in chunks, never copied whole).
    path : str or os.PathLike
        The folder to create. An existing cache (or empty folder) there is replaced; any
        other existing file or folder is left alone and ``FileExistsError`` is raised.
    source : str or os.PathLike, optional
        The file the vectors were read from; its fingerprint goes into ``meta.json`` so that
        :func:`is_fresh` can tell later whether the cache is still current. Defaults to
        ``vectors.path`` when that is an existing file.
    source_format : str, optional
        The source's format, recorded for ``embload info``. Defaults to ``vectors.format``.
    progress : bool, optional
        Progress bar over the bytes written (default: on for large work on a terminal).
    fsync : bool, default False
        Flush every file and the folder to the disk before renaming it into place, and
        the parent folder after (survives a power cut).

    Returns
    -------
    str
        ``path``.
    """
    from ._progress import complete, make_progress
    from . import __version__

    if kwargs:
        raise TypeError(f"write_cache() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
    path = os.fspath(path)
    words = vectors.words
    # a plain WordList gives words.txt as it is; other words are joined and encoded once
    blob = _word_bytes(words)
    if blob is None and not isinstance(words, (list, tuple)):
        words = list(words)
    matrix = vectors.vectors
    if not isinstance(matrix, np.ndarray):
        matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise ValueError(f"vectors must be a 2-D matrix with one row per word; got shape "
                         f"{matrix.shape} for {len(words)} words")
    if matrix.dtype.name not in _DTYPES:
        raise ValueError(f"the cache stores float16, float32 or float64 matrices, not {matrix.dtype}")
    if source is None and getattr(vectors, "path", None) and os.path.isfile(vectors.path):
        source = vectors.path
    if source is not None and source_format is None:
        source_format = getattr(vectors, "format", None)

    if blob is None:
        try:
            blob = "\n".join(words).encode("utf-8", _WORD_ERRORS)
        except TypeError:
            bad = next(w for w in words if not isinstance(w, str))
            raise TypeError(f"words must be str, got {type(bad).__name__} {bad!r}") from None
        # Offsets only when a word holds the separator itself; otherwise split() recovers them.
        needs_offsets = len(words) > 0 and blob.count(b"\n") != len(words) - 1
    else:
        needs_offsets = False   # a plain WordList: no word holds a "\n"

    # the bar is closed before the folder is renamed into place (or discarded)
    with atomic_dir(path, fsync=fsync, check=_check_target) as tmp, \
            contextlib.closing(make_progress(progress, total=matrix.nbytes + len(blob), desc="write cache")) as bar:
        files = {}
        size, crc = _write_npy(os.path.join(tmp, MATRIX), matrix, bar)
        files[MATRIX] = {"size": size, "crc32": crc}
        size, crc = _write_bytes(os.path.join(tmp, WORDS), blob)
        files[WORDS] = {"size": size, "crc32": crc}
        bar.update(len(blob))
        if needs_offsets:
            # word i is blob[offsets[i] : offsets[i + 1] - 1]: each word is followed by one
            # separator byte, counted as if the last word had one too.
            lengths = np.fromiter((len(w.encode("utf-8", _WORD_ERRORS)) for w in words),
                                  dtype=np.int64, count=len(words))
            offsets = np.zeros(len(words) + 1, dtype=np.int64)
            np.cumsum(lengths + 1, out=offsets[1:])
            size, crc = _write_npy(os.path.join(tmp, OFFSETS), offsets, make_progress(False))
            files[OFFSETS] = {"size": size, "crc32": crc}
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "count": len(words),
            "dim": int(matrix.shape[1]),
            "dtype": matrix.dtype.name,
            "words": {"file": WORDS, "encoding": "utf-8", "offsets": OFFSETS if needs_offsets else None},
            "files": files,
            "source": None,
            "embload_version": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        if source is not None:
            meta["source"] = dict(source_fingerprint(source), format=source_format)
        with open(os.path.join(tmp, META), "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=1, sort_keys=True)
            handle.write("\n")
        complete(bar)
    return path
