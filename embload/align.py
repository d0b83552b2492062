"""Aligned loading: a tokenizer's ``word_index`` -> the weight matrix of an Embedding layer.

``load_aligned(path, word_index)`` returns a matrix whose row ``i`` is the vector of the
word the tokenizer numbers ``i`` (Keras style: row 0 is padding and stays zeros). It
never loads the whole file: a C hash table of the wanted words' UTF-8 bytes is read by
threads scanning the file, a line whose word is not wanted costs a newline scan and a
hash lookup, and floats are parsed only for the rows that are kept (``embload._align``).
The scan stops once every wanted word has been found as written. Memory is the output
matrix plus bounded buffers: a plain file is memory-mapped and the pages already scanned
are handed back to the OS; a compressed file is read in blocks.

Rules (also in the docstring of :func:`load_aligned`):

* The word of a line is everything before its last ``dim`` fields, as in
  :func:`embload.load`; values are bit-identical to what ``embload.load`` returns.
* The first line of a duplicated file word wins (``embload.load`` keeps the first too).
* ``case="fallback"``: a word not found as written takes the vector of the first line
  whose word equals it ignoring case (``file_word.lower() == word.lower()``, Python's
  Unicode lowercasing). A match as written always wins, wherever it is in the file.
* Several words numbered with the same row (duplicated indices) are allowed: the row
  takes the vector of the first of them, in ``word_index`` order, found as written;
  failing that, of the first found ignoring case.
"""

import json
import mmap
import os
import sys
import warnings
from collections.abc import Mapping

import numpy as np

from ._runtime import make_progress, resolve_threads
from ._words import WordList
from .errors import EmbeddingFormatError

__all__ = ["load_aligned", "AlignedEmbedding", "align_vectors", "read_word_index"]

OOV_MODES = ("zeros", "uniform", "normal", "mean")
CASE_MODES = ("exact", "fallback")
DTYPES = ("float32", "float16", "float64")
_BLANKS = " \t\r\v\f"
# Bytes of a plain file scanned per parallel region, per thread. Few regions: between two
# of them an idle OpenMP thread spins (GOMP_SPINCOUNT), which costs when the machine is
# busy. The pages of each part are returned to the OS as soon as a thread has scanned it
# (the memory bound), and the scan may stop between regions.
_WINDOW_PER_THREAD = 64 << 20
# Block size for compressed files (grown when a single line is longer).
_STREAM_BLOCK = 16 << 20


# --------------------------------------------------------------------------------------
# word_index: what users pass, and the plan the scanner works from
# --------------------------------------------------------------------------------------

def read_word_index(word_index):
    """Normalise the accepted forms of ``word_index`` to a ``dict`` {word: row}.

    Parameters
    ----------
    word_index : dict, str, os.PathLike or object
        A mapping word -> row (Keras' ``Tokenizer.word_index``); a path to a Keras
        tokenizer JSON (``Tokenizer.to_json()``) or to a plain JSON object
        ``{word: row}``; a path to a vocabulary file with one word per line (the word on
        line ``n``, counting from 1, gets row ``n``; lines are taken as they are, only
        the line end is removed); or any object with a ``word_index`` attribute.

    Returns
    -------
    dict
        A new dict in the same order. Its values are not validated here (see
        :func:`load_aligned` for the rules).
    """
    if isinstance(word_index, Mapping):
        return dict(word_index)
    if isinstance(word_index, (str, bytes, os.PathLike)):
        return _read_word_index_file(os.fsdecode(os.fspath(word_index)))
    inner = getattr(word_index, "word_index", None)
    if isinstance(inner, Mapping):
        return dict(inner)
    raise TypeError(
        "word_index must be a dict {word: row}, a path to a Keras tokenizer JSON or to a "
        "one-word-per-line vocabulary file, or an object with a word_index attribute (a "
        f"Tokenizer), not {type(word_index).__name__}")


def _read_word_index_file(path):
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # name the line and show it, as every other error about a file's content does
        raw = exc.object  # without the BOM, which exc.start does not count
        line = raw.count(b"\n", 0, exc.start) + 1
        a = raw.rfind(b"\n", 0, exc.start) + 1
        b = raw.find(b"\n", exc.start)
        text = raw[a:b if b >= 0 else len(raw)][:100]
        at = exc.start + len(data) - len(raw)
        raise ValueError(f"{path}, line {line}: word_index file is not UTF-8 ({exc.reason} "
                         f"at byte {at}): {text!r}") from None
    if text.lstrip().startswith("{"):
        return _word_index_from_json(text, path)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = {}
    for number, line in enumerate(lines, 1):
        if line.endswith("\r"):
            line = line[:-1]
        if line == "":
            raise ValueError(f"{path}, line {number}: empty line in a vocabulary file "
                             "(one word per line; the word on line n gets row n)")
        first = out.setdefault(line, number)
        if first != number:
            raise ValueError(f"{path}, line {number}: word {line!r} is already on line {first}")
    return out


def _word_index_from_json(text, path):
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(obj, dict) and "config" in obj and isinstance(obj["config"], dict):
        inner = obj["config"].get("word_index")
        if inner is None:
            raise ValueError(f"{path}: a JSON file with a 'config' but no 'word_index' in it; "
                             "expected a Keras tokenizer JSON (Tokenizer.to_json())")
        if isinstance(inner, str):  # Keras stores it as a JSON string inside the JSON
            try:
                inner = json.loads(inner)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: config.word_index is not valid JSON ({exc})") from None
        if not isinstance(inner, dict):
            raise ValueError(f"{path}: config.word_index is a {type(inner).__name__}, not an object")
        return inner
    if isinstance(obj, dict):
        return obj
    raise ValueError(f"{path}: JSON holds a {type(obj).__name__}; expected a Keras tokenizer "
                     "JSON or an object {word: row}")


class _Plan:
    """The wanted words of one alignment, validated, as the scanner needs them.

    A *slot* is one word of ``word_index`` whose row is inside the matrix, numbered in
    ``word_index`` order (its priority among words sharing a row). A *case group* is a
    lowercased word shared by one or more slots (case="fallback").
    """

    def __init__(self, word_index, num_words, case):
        if case not in CASE_MODES:
            raise ValueError(f"case must be one of {CASE_MODES}, not {case!r}")
        wi = read_word_index(word_index)
        top = 0
        for word, row in wi.items():
            if not isinstance(word, str):
                raise TypeError(f"word_index keys must be str, got {type(word).__name__} {word!r}")
            if isinstance(row, bool) or not isinstance(row, (int, np.integer)):
                raise TypeError(f"word_index[{word!r}] = {row!r}: rows must be ints")
            if row == 0:
                raise ValueError(
                    f"word_index[{word!r}] = 0: row 0 is reserved for padding and stays zeros; "
                    "number words from 1, as Keras' Tokenizer does")
            if row < 0:
                raise ValueError(f"word_index[{word!r}] = {row}: rows must be positive")
            top = max(top, int(row))
        if num_words is None:
            num_words = top + 1
        elif isinstance(num_words, bool) or not isinstance(num_words, (int, np.integer)):
            raise TypeError(f"num_words must be an int or None, not {type(num_words).__name__}")
        elif num_words < 1:
            raise ValueError(f"num_words must be at least 1 (row 0 is padding), not {num_words}")
        self.word_index = wi
        self.num_words = int(num_words)
        self.case = case
        self.words = [w for w, r in wi.items() if r < self.num_words]
        self.rows = np.fromiter((wi[w] for w in self.words), dtype=np.int64, count=len(self.words))
        self.vocab_rows = np.zeros(self.num_words, dtype=bool)
        self.vocab_rows[self.rows] = True
        joined = "\n".join(self.words)  # one pass in C instead of a generator per word
        self.general = any(c in joined for c in _BLANKS)
        if case == "fallback":
            groups = {}
            self.slot_group = np.fromiter(
                (groups.setdefault(w.lower(), len(groups)) for w in self.words),
                dtype=np.int64, count=len(self.words))
            self.group_keys = list(groups)
        else:
            self.slot_group = None
            self.group_keys = []

    def first_word_of_rows(self):
        """Row -> the first word of word_index order numbered with it."""
        out = {}
        for word, row in zip(self.words, self.rows.tolist()):
            out.setdefault(row, word)
        return out


def _encode(word):
    try:
        return word.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return word.encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------

class AlignedEmbedding:
    """An embedding matrix aligned to a ``word_index``, and what was (not) found.

    Attributes
    ----------
    matrix : ndarray, shape (num_words, dim)
        Row ``i`` is the vector of the word numbered ``i``; row 0 and rows no word is
        numbered with are zeros; rows of words not found follow ``oov``.
    found : ndarray of bool, shape (num_words,)
        Rows that got a vector from the file.
    missing : list of str
        Words (with a row inside the matrix) not found, by increasing row.
    case_matched : dict
        ``{word: file_word}`` for words found only ignoring case (case="fallback").
    word_index : dict
        The word_index aligned to (normalised to a dict).
    path : str or None
        The vectors file.
    oov, case : str
        The options used (``oov`` is ``"callable"`` for a function).
    """

    def __init__(self, matrix, found, missing, word_index, *, case_matched=None, path=None,
                 oov="zeros", case="exact", vocab_rows=None):
        self.matrix = matrix
        self.found = found
        self.missing = missing
        self.word_index = word_index
        self.case_matched = case_matched or {}
        self.path = path
        self.oov = oov
        self.case = case
        if vocab_rows is None:
            vocab_rows = np.zeros(matrix.shape[0], dtype=bool)
            for row in word_index.values():
                if 0 < row < matrix.shape[0]:
                    vocab_rows[row] = True
        self._vocab_rows = vocab_rows

    @property
    def dim(self):
        return self.matrix.shape[1]

    @property
    def num_words(self):
        return self.matrix.shape[0]

    @property
    def dtype(self):
        return self.matrix.dtype

    @property
    def coverage(self):
        """Share of the vocabulary rows (rows some word is numbered with) found in the file."""
        total = int(self._vocab_rows.sum())
        return float(self.found.sum()) / total if total else 0.0

    def token_coverage(self, counts):
        """Share of running tokens whose word has a found row.

        Parameters
        ----------
        counts : mapping or object
            Word -> occurrences (Keras' ``Tokenizer.word_counts``), or an object with a
            ``word_counts`` attribute. Words outside ``word_index`` or at rows
            ``>= num_words`` count as not covered.
        """
        if not isinstance(counts, Mapping):
            inner = getattr(counts, "word_counts", None)
            if not isinstance(inner, Mapping):
                raise TypeError("counts must be a mapping word -> count or have a word_counts "
                                f"attribute, not {type(counts).__name__}")
            counts = inner
        total = covered = 0
        n = self.num_words
        for word, count in counts.items():
            total += count
            row = self.word_index.get(word)
            if row is not None and 0 < row < n and self.found[row]:
                covered += count
        return covered / total if total else 0.0

    def __array__(self, dtype=None, copy=None):
        if dtype is None or np.dtype(dtype) == self.matrix.dtype:
            return self.matrix.copy() if copy else self.matrix
        return self.matrix.astype(dtype)

    def __repr__(self):
        total = int(self._vocab_rows.sum())
        where = f", path={self.path!r}" if self.path else ""
        return (f"<AlignedEmbedding {self.num_words} x {self.dim} {self.matrix.dtype}: "
                f"{int(self.found.sum())} of {total} rows found ({self.coverage:.1%}), "
                f"oov={self.oov!r}, case={self.case!r}{where}>")

    # --- handing the matrix to a framework (optional dependencies) ------------
    def to_torch(self, freeze=True, padding_idx=0):
        """A ``torch.nn.Embedding`` holding a copy of the matrix; see :mod:`embload.interop`."""
        from .interop import aligned_to_torch

        return aligned_to_torch(self, freeze=freeze, padding_idx=padding_idx)

    def keras_initializer(self):
        """A Keras 3 initializer that returns the matrix (for ``embeddings_initializer=``)."""
        from .interop import aligned_keras_initializer

        return aligned_keras_initializer(self)

    def to_keras(self, trainable=False, mask_zero=True, **kwargs):
        """A ``keras.layers.Embedding`` carrying the matrix."""
        from .interop import aligned_to_keras

        return aligned_to_keras(self, trainable=trainable, mask_zero=mask_zero, **kwargs)

    def to_jax(self, dtype=None):
        """The matrix as a JAX array, e.g. for ``flax.linen.Embed(embedding_init=...)``."""
        from .interop import aligned_to_jax

        return aligned_to_jax(self, dtype=dtype)

    def summary(self, examples=10):
        """A few lines for a person: coverage, missing words, case matches."""
        total = int(self._vocab_rows.sum())
        lines = [f"aligned {self.num_words} rows x {self.dim} ({self.matrix.dtype})"
                 + (f" from {self.path}" if self.path else ""),
                 f"found: {int(self.found.sum())} of {total} vocabulary rows ({self.coverage:.1%})"]
        if self.missing:
            shown = ", ".join(repr(w) for w in self.missing[:examples])
            more = f", ... ({len(self.missing) - examples} more)" if len(self.missing) > examples else ""
            lines.append(f"missing ({len(self.missing)}, oov={self.oov!r}): {shown}{more}")
        if self.case_matched:
            items = list(self.case_matched.items())[:examples]
            lines.append(f"matched ignoring case ({len(self.case_matched)}): "
                         + ", ".join(f"{w!r}->{f!r}" for w, f in items))
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Out-of-vocabulary rows
# --------------------------------------------------------------------------------------

def _check_oov(oov):
    if callable(oov):
        return
    if oov not in OOV_MODES:
        raise ValueError(f"oov must be one of {OOV_MODES} or a callable "
                         f"oov(word, dim, rng) -> vector, not {oov!r}")


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}") from None
    if dt.name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    return dt


def _fill_oov(matrix, rows, found, oov, seed, plan):
    """Initialise the rows of words not found (``rows``: ascending row numbers)."""
    if len(rows) == 0 or (isinstance(oov, str) and oov == "zeros"):
        return
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    dim = matrix.shape[1]
    if callable(oov):
        first = plan.first_word_of_rows()
        for row in rows.tolist():
            word = first[row]
            vector = np.asarray(oov(word, dim, rng), dtype=np.float64)
            if vector.shape != (dim,):
                raise ValueError(f"oov({word!r}, {dim}, rng) returned shape {vector.shape}; "
                                 f"expected ({dim},)")
            matrix[row] = vector
        return
    if oov == "uniform":  # Keras' default Embedding initializer
        matrix[rows] = rng.uniform(-0.05, 0.05, size=(len(rows), dim))
        return
    if not found.any():
        warnings.warn(f"no word was found, so oov={oov!r} has nothing to match; "
                      "the rows of missing words stay zeros", RuntimeWarning, stacklevel=4)
        return
    known = matrix[found].astype(np.float64)
    if oov == "normal":
        matrix[rows] = rng.normal(known.mean(), known.std(), size=(len(rows), dim))
    else:  # "mean"
        matrix[rows] = known.mean(axis=0)


def _finish(plan, matrix, row_found, slot_found, case_matched, oov, seed, path):
    row_found[0] = False
    oov_rows = np.flatnonzero(plan.vocab_rows & ~row_found)
    _fill_oov(matrix, oov_rows, row_found, oov, seed, plan)
    order = np.argsort(plan.rows, kind="stable")
    missing = [plan.words[i] for i in order.tolist() if not slot_found[i]]
    return AlignedEmbedding(matrix, row_found, missing, plan.word_index,
                            case_matched=case_matched, path=path,
                            oov="callable" if callable(oov) else oov, case=plan.case,
                            vocab_rows=plan.vocab_rows)


# --------------------------------------------------------------------------------------
# Vectors already in memory (Vectors.align) and cache folders
# --------------------------------------------------------------------------------------

def align_vectors(vectors, word_index, *, num_words=None, oov="zeros", seed=None, case="exact",
                  dtype=None, threads=None, progress=None):
    """Align :class:`~embload.Vectors` already in memory; see :func:`load_aligned`.

    ``dtype=None`` keeps the dtype of ``vectors``. ``threads`` and ``progress`` are
    accepted for symmetry and unused (a gather of rows needs neither).
    """
    _check_oov(oov)
    plan = _Plan(word_index, num_words, case)
    dt = np.dtype(vectors.vectors.dtype) if dtype is None else _check_dtype(dtype)
    n, dim = plan.num_words, vectors.dim
    key_to_index = vectors.key_to_index
    # exact: the first word in word_index order found wins its row
    src = np.full(n, -1, dtype=np.int64)
    rank = np.full(n, -1, dtype=np.int64)  # 0 exact, 1 case fallback
    slot_found = np.zeros(len(plan.words), dtype=bool)
    for s, (word, row) in enumerate(zip(plan.words, plan.rows.tolist())):
        i = key_to_index.get(word)
        if i is not None:
            slot_found[s] = True
            if rank[row] != 0:
                src[row], rank[row] = i, 0
    case_matched = {}
    if case == "fallback" and not slot_found.all():
        wanted = list(dict.fromkeys(plan.group_keys[g] for s, g in enumerate(plan.slot_group.tolist())
                                    if not slot_found[s]))
        first = _first_lower_rows(vectors.words, wanted)
        for s, (word, row) in enumerate(zip(plan.words, plan.rows.tolist())):
            if slot_found[s]:
                continue
            i = first.get(plan.group_keys[plan.slot_group[s]])
            if i is not None:
                slot_found[s] = True
                case_matched[word] = vectors.words[i]
                if rank[row] < 0:
                    src[row], rank[row] = i, 1
    matrix = np.zeros((n, dim), dtype=dt)
    row_found = src >= 0
    rows = np.flatnonzero(row_found)
    if len(rows):
        take = src[rows]
        order = np.argsort(take, kind="stable")  # ascending rows of a memory map read in order
        matrix[rows[order]] = np.asarray(vectors.vectors[take[order]], dtype=dt)
    return _finish(plan, matrix, row_found, slot_found, case_matched, oov, seed, vectors.path)


def _first_lower_rows(words, keys):
    """``{key: row}`` of the first word whose ``str.lower()`` is each key (those found).

    The WordList is read in its UTF-8 arena (ASCII words looked up in C), without making
    the 400,000 str objects that iterating it would decode and keep."""
    from . import _align

    if not isinstance(words, WordList):  # Vectors makes one; someone may have set .words
        words = WordList.from_words(words)
    arena, offsets = words._utf8_arena()
    rows = _align.first_lower_rows(_align.WordTable(*_unique_keys(keys)),
                                   dict(zip(keys, range(len(keys)))), arena, offsets)
    return {key: row for key, row in zip(keys, rows.tolist()) if row >= 0}


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------

def load_aligned(path, word_index, *, num_words=None, oov="zeros", seed=None, case="exact",
                 dtype="float32", threads=None, progress=None, member=None):
    """Load only the vectors a tokenizer needs, as an Embedding weight matrix.

    Parameters
    ----------
    path : str or os.PathLike
        A GloVe, word2vec (text or binary) or fastText ``.vec`` file, possibly gzip, bz2,
        xz or zip compressed (told by its bytes), or an ``embload`` cache folder.
    word_index : dict, str, os.PathLike or object
        Word -> row, 1-based (row 0 is padding and stays zeros), e.g. Keras'
        ``Tokenizer.word_index``; or a path to a Keras tokenizer JSON, a path to a
        one-word-per-line vocabulary file (line ``n`` -> row ``n``), or any object with a
        ``word_index`` attribute. Rows may have gaps (they stay zeros); several words may
        share a row (the first found, in word_index order, wins it).
    num_words : int, optional
        Rows of the matrix; words numbered ``>= num_words`` are left out (the Keras recipe
        ``min(MAX_NUM_WORDS, len(word_index) + 1)``). Default: the largest row + 1.
    oov : {"zeros", "uniform", "normal", "mean"} or callable
        Rows of words not found: zeros; U(-0.05, 0.05) (Keras' default initializer); a
        normal with the mean and standard deviation of all values of the found rows; the
        mean found vector; or ``oov(word, dim, rng)`` returning a vector (called for each
        row in increasing order, with the row's first word).
    seed : int, numpy.random.Generator or None
        For the random ``oov`` modes; the same seed gives the same matrix.
    case : {"exact", "fallback"}
        ``"fallback"``: a word not found as written takes the vector of the first line
        whose word equals it ignoring case (``str.lower``).
    dtype : {"float32", "float16", "float64"}
    threads : int, optional
        Threads scanning the file; None = all cores.
    progress : bool, optional
        A tqdm bar over the bytes scanned; None = on for large files on a terminal.
    member : str, optional
        The file of a zip archive to read.

    Returns
    -------
    AlignedEmbedding
        ``.matrix``, ``.found``, ``.missing``, ``.coverage``, ...

    Raises
    ------
    EmbeddingFormatError
        A line (record) of a wanted word is malformed: names file, line and text. Lines
        of other words are not parsed, so their errors go unnoticed.
    ValueError, TypeError
        A word_index that breaks the rules above (e.g. a word numbered 0).
    """
    _check_oov(oov)
    dt = _check_dtype(dtype)
    plan = _Plan(word_index, num_words, case)
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    if os.path.isdir(path):
        return _align_cache(path, plan, oov, seed, dt)
    from .formats import sniff

    info = sniff(path, member=member)
    if info.dim is None:  # no data at all
        raise EmbeddingFormatError("no vectors in the file", path=path)
    from ._source import open_source
    from .io import _check_header_dim

    with open_source(path, member) as src:  # a lying header: an error, not a 30 GB matrix
        _check_header_dim(info.dim, src, path)
    threads = resolve_threads(threads)
    scanner = _make_scanner(plan, info.dim, dt, threads, info.format == "word2vec-binary", path)
    if info.format != "word2vec-binary":
        scanner.lines = info.header_lines  # error messages count the header line
    name = os.path.basename(path)
    if info.compression is None:
        total = os.path.getsize(path)
    else:
        total = None
    bar = make_progress(progress, total=total if total is not None else _source_total(path, member),
                        desc=f"aligning {name}")
    try:
        if info.format == "word2vec-binary":
            _scan_binary(scanner, path, member, info, bar)
        elif info.compression is None:
            _scan_text_mmap(scanner, path, info, bar, threads)
        else:
            _scan_stream(scanner, path, member, info, bar)
    finally:
        bar.close()
    matrix, row_found, slot_exact, group_found = scanner.result()
    slot_found = slot_exact.copy()
    case_matched = {}
    if plan.case == "fallback":
        by_case = group_found[plan.slot_group] & ~slot_exact
        slot_found |= by_case
        group_word = scanner.group_word
        for s in np.flatnonzero(by_case).tolist():
            case_matched[plan.words[s]] = group_word[plan.slot_group[s]].decode("utf-8", "replace")
    return _finish(plan, matrix, row_found, slot_found, case_matched, oov, seed, path)


def _source_total(path, member):
    from ._source import open_source

    with open_source(path, member) as src:
        return src.total


def _unique_keys(words):
    """UTF-8 keys and their positions, without empty words (a file word is never empty)
    and without a second word that encodes to the same bytes (possible only for strings
    holding surrogates: the file cannot tell them apart)."""
    keys, values, seen = [], [], set()
    for i, word in enumerate(words):
        key = _encode(word)
        if key and key not in seen:
            seen.add(key)
            keys.append(key)
            values.append(i)
    return keys, values


def _make_scanner(plan, dim, dtype, threads, binary, path):
    from . import _align

    exact = _align.WordTable(*_unique_keys(plan.words))
    lower = lower_dict = None
    if plan.case == "fallback":
        keys, groups = _unique_keys(plan.group_keys)
        lower = _align.WordTable(keys, groups)
        lower_dict = dict(zip(keys, groups))
        order = np.argsort(plan.slot_group, kind="stable")
        group_ptr = np.zeros(len(plan.group_keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(plan.slot_group, minlength=len(plan.group_keys)), out=group_ptr[1:])
        group_slots = order.astype(np.int64)
    else:
        group_ptr = np.zeros(1, dtype=np.int64)
        group_slots = np.zeros(0, dtype=np.int64)
    return _align.Scanner(exact, lower, lower_dict, plan.rows, group_ptr, group_slots,
                          plan.num_words, dim, dtype, threads, plan.general, binary, path)


def _scan_text_mmap(scanner, path, info, bar, threads):
    """Plain text file: memory-map it, scan window by window, hand scanned pages back."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size <= info.header_length:
            return
        mm = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        if hasattr(mm, "madvise"):
            mm.madvise(mmap.MADV_SEQUENTIAL)
        window = _WINDOW_PER_THREAD * threads
        pos = info.header_length
        released = 0
        page = mmap.PAGESIZE
        while pos < size and not scanner.done:
            end = min(size, pos + window)
            if end < size:
                cut = mm.rfind(b"\n", pos, end)
                if cut < 0:
                    cut = mm.find(b"\n", end)
                end = size if cut < 0 else cut + 1
            scanner.feed_text(mm, pos, end, True)
            bar.update(end - pos)
            drop = (end // page) * page
            if drop > released and hasattr(mm, "madvise"):
                # the scanned pages: file-backed, so dropping them costs nothing but a
                # re-read if touched again; keeps the resident set bounded
                mm.madvise(mmap.MADV_DONTNEED, released, drop - released)
                released = drop
            pos = end
    finally:
        mm.close()


def _fill_buffer(src, buf, filled):
    """Read from src into buf[filled:] until buf is full or the source ends: (filled, eof)."""
    with memoryview(buf) as view:
        while filled < len(buf):
            n = src.readinto(view[filled:])
            if n == 0:
                return filled, True
            filled += n
    return filled, False


def _scan_stream(scanner, path, member, info, bar):
    """Compressed text: blocks of the decompressed stream, partial last line carried over."""
    from ._source import open_source

    with open_source(path, member) as src:
        buf = bytearray(max(_STREAM_BLOCK, 2 * info.header_length + 1))
        filled = 0
        start = -1
        reported = 0
        while True:
            filled, eof = _fill_buffer(src, buf, filled)
            if start < 0:
                start = min(info.header_length, filled)
            if eof:
                end = filled
            else:
                cut = buf.rfind(b"\n", start, filled)
                if cut < 0:  # one line longer than the buffer: grow it
                    buf.extend(bytes(len(buf)))
                    continue
                end = cut + 1
            scanner.feed_text(buf, start, end)
            position = src.position()
            bar.update(position - reported)
            reported = position
            if eof or scanner.done:
                break
            tail = filled - end
            buf[:tail] = buf[end:filled]
            filled, start = tail, 0


def _scan_binary(scanner, path, member, info, bar):
    """word2vec binary: records in order (no threads: a record's start depends on the last)."""
    from ._source import open_source

    count = info.count
    done = 0
    with open_source(path, member) as src:
        buf = bytearray(max(_STREAM_BLOCK, 2 * info.header_length + 1))
        filled = 0
        start = -1
        reported = 0
        while done < count and not scanner.done:
            filled, eof = _fill_buffer(src, buf, filled)
            if start < 0:
                start = min(info.header_length, filled)
            # a damaged count past C's range: no file holds that many records anyway
            pos, records = scanner.feed_binary(buf, start, filled, min(count - done, sys.maxsize))
            done += records
            position = src.position()
            bar.update(position - reported)
            reported = position
            if eof:
                rest = bytes(buf[pos:filled]).lstrip(b"\n")
                if done < count and rest:
                    raise EmbeddingFormatError(
                        f"file ends early, inside record {done + 1} of {count} "
                        f"({len(rest)} bytes of it present)", path=path, record=done + 1)
                break
            if pos == start:
                buf.extend(bytes(len(buf)))  # a record longer than the buffer: grow it
            tail = filled - pos
            buf[:tail] = buf[pos:filled]
            filled, start = tail, 0


def _align_cache(path, plan, oov, seed, dtype):
    from .cache import is_cache, open_cache

    if not is_cache(path):
        raise ValueError(f"{path} is a folder but not an embload cache (no meta.json); "
                         "pass a vectors file or a folder written by embload.convert")
    vectors = open_cache(path)
    return align_vectors(vectors, plan.word_index, num_words=plan.num_words, oov=oov, seed=seed,
                         case=plan.case, dtype=dtype)
