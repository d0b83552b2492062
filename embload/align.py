"""Aligned loading: a tokenizer's vocabulary -> the weight matrix of an Embedding layer.

``load_aligned(path, vocabulary)`` returns a matrix whose row ``i`` is the vector of the
token the tokenizer numbers ``i``, whatever the numbering: Keras' (ids from 1, row 0
padding), PyTorch's and torchtext's (ids from 0, ``<pad>`` somewhere), Hugging Face's
(sparse ids, ``[PAD]`` at 0), sentencepiece's (pieces from 0). The vocabulary is read by
:mod:`embload.vocabulary` (mappings, token lists, tokenizer objects and files). It
never loads the whole file: it reads it with the reader of :func:`embload.load` (its
stream, block loop, record splitter and value parser, ``embload._parse``) and adds one
decision, whether a line's word is wanted: a C table of the wanted words' UTF-8 bytes
is read by threads scanning each block, a line whose word is not wanted costs a newline
scan and a lookup, and floats are parsed only for the rows that are kept
(``embload._align``). The scan stops once every wanted word has been found as written.
Memory is the output matrix plus one bounded block buffer. fastText / floret models are
read by :mod:`embload.fasttext` instead (dictionary words and subword vectors).

Rules (also in the docstring of :func:`load_aligned`):

* The word of a line is everything before its last ``dim`` fields, as in
  :func:`embload.load`; values are bit-identical to what ``embload.load`` returns.
* The first line of a duplicated file word wins (``embload.load`` keeps the first too),
  with a DuplicateWordsWarning when the word is wanted and the scan meets the repeat.
* The word looked up for a token is the token, or ``lookup(token)`` (None: not looked
  up). Several tokens may look up one word: the distinct words are scanned once and
  their rows scattered back to every token.
* ``case="fallback"``: a word not found as written takes the vector of the first line
  whose word equals it ignoring case (``file_word.lower() == word.lower()``, Python's
  Unicode lowercasing). A match as written always wins, wherever it is in the file.
* Several tokens numbered with the same row (duplicated ids) are allowed: the row
  takes the vector of the first of them, in vocabulary order, found as written;
  failing that, of the first found ignoring case.
* The padding row (``padding_idx``) is zeros and never looked up; rows no token holds
  are zeros; rows of tokens not found follow ``oov`` (special tokens: ``specials``).
"""
import os
import sys
from collections.abc import Mapping

import numpy as np

from ._progress import complete, make_progress
from ._threads import resolve_threads
from ._checks import check_dtype, check_member, check_progress
from ._words import WordList
from .errors import DuplicateWordsWarning, EmbeddingFormatError, LowCoverageWarning, warn
from . import fasttext
from ._source import open_source
from .formats import FIELD_SEPARATORS, _sniff, sniff
from .cache import open_cache
from .read import check_header_dim, no_vectors_reason, nothing_after_header, source_kind, warn_count_mismatch
from .vocabulary import PADDING_TOKENS, read_vocabulary

__all__ = ["load_aligned", "AlignedEmbedding", "align_vectors"]

OOV_MODES = ("zeros", "uniform", "normal", "mean")
CASE_MODES = ("exact", "fallback")
_BLANKS = FIELD_SEPARATORS.decode("ascii")
# Block of a plain file read (pread, in parallel) and scanned per parallel region, per
# thread: the memory bound (one block plus a partial line), and where the scan may stop.
# Few regions: between two of them an idle OpenMP thread spins (GOMP_SPINCOUNT), which
# costs when the machine is busy.
_WINDOW_PER_THREAD = 64 << 20
# Block size for compressed and binary files (grown when a single line is longer).
_STREAM_BLOCK = 16 << 20


# --------------------------------------------------------------------------------------
# word_index: what users pass, and the plan the scanner works from
# --------------------------------------------------------------------------------------

class _Plan:
    """The wanted tokens of one alignment, validated, as the scanner needs them.

    A *slot* is one token of the vocabulary whose row is inside the matrix and is not
    the padding row, numbered in vocabulary order (its priority among tokens sharing a
    row); ``words[s]`` is the word looked up for it (the token, or ``lookup(token)``). A
    *case group* is a lowercased word shared by one or more slots (case="fallback").

    The scanner reads ``words``, ``rows``, ``num_words``, ``general``, ``group_keys`` and
    ``slot_group``; when ``lookup`` maps several tokens to one word it is given
    :meth:`for_scan` instead, whose slots are the distinct words.
    """

    def __init__(self, word_index, num_words, case, *, start=None, padding_idx="auto",
                 lookup=None, specials=None):
        if case not in CASE_MODES:
            raise ValueError(f"case must be one of {CASE_MODES}, not {case!r}")
        if lookup is not None and not callable(lookup):
            raise TypeError(f"lookup must be a callable token -> word (or None), not "
                            f"{type(lookup).__name__}")
        _check_specials(specials)
        vocab = read_vocabulary(word_index, start=start)
        ids = vocab.ids
        top = max(ids.values(), default=0)
        if top > np.iinfo(np.int64).max - 1:
            raise ValueError(f"the token {_largest_id_token(ids, top)!r} has id {top}, past the "
                             "rows any matrix can have: a damaged vocabulary?")
        if num_words is None:
            num_words = vocab.num_rows if vocab.num_rows is not None else top + 1
            num_words = max(num_words, 1)   # an empty token list, as {}: the padding row alone
        elif isinstance(num_words, bool) or not isinstance(num_words, (int, np.integer)):
            raise TypeError(f"num_words must be an int or None, not {type(num_words).__name__}")
        elif num_words < 1:
            raise ValueError(f"num_words must be at least 1, not {num_words}")
        self.vocabulary = vocab
        self.word_index = ids
        self.num_words = n = int(num_words)
        self.case = case
        self.lookup = lookup
        self.specials = specials
        self.padding_idx, padding_note = _padding_row(ids, padding_idx, n)
        self.notes = list(vocab.notes) + ([padding_note] if padding_note else [])
        tokens = list(ids)
        all_rows = np.fromiter(ids.values(), dtype=np.int64, count=len(ids))
        inside = all_rows < n
        if self.padding_idx is not None:
            inside &= all_rows != self.padding_idx
        if not inside.all():
            tokens = [t for t, keep in zip(tokens, inside.tolist()) if keep]
            all_rows = all_rows[inside]
        try:
            self.token_rows = np.zeros(n, dtype=bool)   # rows holding a token (padding aside)
        except MemoryError:
            # one byte per row does not fit: neither does the matrix; say which id asks for it
            why = (f"num_words={n}" if n != top + 1 else
                   f"the largest id, {top} (token {_largest_id_token(ids, top)!r})")
            raise MemoryError(f"{why} asks for {n} rows, more than memory holds: a damaged "
                              "vocabulary? pass num_words= to keep the first rows") from None
        self.token_rows[all_rows] = True
        self._row_tokens = (tokens, all_rows)        # for first_word_of_rows, special_rows
        self.skipped = []
        if lookup is None:
            self.tokens, self.words, self.rows = tokens, tokens, all_rows
        else:
            words = [lookup(t) for t in tokens]
            for token, word in zip(tokens, words):
                if word is not None and not isinstance(word, str):
                    raise TypeError(f"lookup({token!r}) returned {type(word).__name__} {word!r}; "
                                    "expected a str (the word to look up) or None (skip the token)")
            kept = [i for i, w in enumerate(words) if w is not None]
            self.skipped = [tokens[i] for i, w in enumerate(words) if w is None]
            self.tokens = [tokens[i] for i in kept]
            self.words = [words[i] for i in kept]
            self.rows = all_rows[np.array(kept, dtype=np.int64)]
        self.vocab_rows = np.zeros(n, dtype=bool)   # rows looked up: coverage counts these
        self.vocab_rows[self.rows] = True
        self.general, self.slot_group, self.group_keys = _scan_fields(self.words, case)

    def for_scan(self):
        """The plan the scanner works from: this one, or one slot per distinct word when
        ``lookup`` gave several tokens the same word (the scanner gives a word's line to
        its first slot only); :func:`_finish` scatters the words' rows back."""
        if len(set(self.words)) == len(self.words):
            return self
        return _DistinctWords(self)

    def first_word_of_rows(self):
        """Row -> the first token of vocabulary order numbered with it."""
        tokens, rows = self._row_tokens
        first = {}
        for token, row in zip(tokens, rows.tolist()):
            first.setdefault(row, token)
        return first

    @property
    def special_rows(self):
        """Rows whose first token is special (see :meth:`Vocabulary.is_special`)."""
        out = np.zeros(self.num_words, dtype=bool)
        for row, token in self.first_word_of_rows().items():
            if self.vocabulary.is_special(token):
                out[row] = True
        return out


class _DistinctWords:
    """A scan plan whose slot ``u`` is the ``u``-th distinct looked-up word, on row ``u``."""

    def __init__(self, plan):
        self.final = plan
        self.case = plan.case
        position = {}
        self.slot_word = np.fromiter((position.setdefault(w, len(position)) for w in plan.words),
                                     dtype=np.int64, count=len(plan.words))
        self.words = list(position)
        self.rows = np.arange(len(self.words), dtype=np.int64)
        self.num_words = len(self.words)
        self.word_index = plan.word_index
        self.general, self.slot_group, self.group_keys = _scan_fields(self.words, self.case)


def _scan_fields(words, case):
    """(any word holds a blank, slot -> case group or None, the groups' lowercased keys)."""
    joined = "\n".join(words)  # one pass in C instead of a generator per word
    general = any(c in joined for c in _BLANKS)
    if case != "fallback":
        return general, None, []
    groups = {}
    slot_group = np.fromiter((groups.setdefault(w.lower(), len(groups)) for w in words),
                             dtype=np.int64, count=len(words))
    return general, slot_group, list(groups)


def _largest_id_token(ids, top):
    return next(token for token, row in ids.items() if row == top)


def _padding_row(ids, padding_idx, n):
    """(the padding row or None, a note for the summary or None)."""
    if padding_idx == "auto":
        at_zero = [token for token, row in ids.items() if row == 0]
        if not at_zero:
            return 0, None   # Keras: ids from 1, row 0 padding
        for token, row in ids.items():
            if token in PADDING_TOKENS and row < n:
                return row, (f"padding row {row}: the token {token!r} (zeros, masked, never "
                             "trained)")
        return None, (f"no padding row: the token {at_zero[0]!r} has id 0 and no padding token "
                      "(<pad>, [PAD]) is in the vocabulary; pass padding_idx= to name one")
    if padding_idx is None:
        return None, None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"padding_idx must be 'auto', an int or None, not {padding_idx!r}")
    if not 0 <= padding_idx < n:
        raise ValueError(f"padding_idx {padding_idx} is outside the {n} rows of the matrix")
    row = int(padding_idx)
    held = [token for token, r in ids.items() if r == row]
    if held:
        return row, (f"padding row {row} (padding_idx={row}) holds the token {held[0]!r}: "
                     "its row stays zeros")
    return row, None


def _check_specials(specials):
    if specials is None or callable(specials):
        return
    if isinstance(specials, str):
        if specials not in OOV_MODES:
            raise ValueError(f"specials must be one of {OOV_MODES}, a vector, a callable or "
                             f"None (follow oov), not {specials!r}")
        return
    vector = np.asarray(specials)
    if vector.ndim != 1 or vector.dtype.kind not in "fiu":
        raise ValueError(f"specials as a vector must be a 1-D array of numbers, got shape "
                         f"{vector.shape} {vector.dtype}")


def _encode(word):
    try:
        return word.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return word.encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------

class AlignedEmbedding:
    """An embedding matrix aligned to a vocabulary, and what was (not) found.

    Attributes
    ----------
    matrix : ndarray, shape (num_words, dim)
        Row ``i`` is the vector of the token numbered ``i``; the padding row and rows no
        token is numbered with are zeros; rows of tokens not found follow ``oov`` (or
        ``specials`` for special tokens).
    found : ndarray of bool, shape (num_words,)
        Rows that got a vector from the file.
    missing : list of str
        Tokens (with a row inside the matrix) looked up and not found, by increasing row.
    case_matched : dict
        ``{token: file_word}`` for tokens found only ignoring case (case="fallback").
    word_index : dict
        The vocabulary aligned to, as ``{token: id}``.
    padding_idx : int or None
        The padding row (zeros; ``to_torch()`` passes it on, the layer masks it and
        never trains it), or None.
    skipped : list of str
        Tokens ``lookup`` returned None for (not looked up).
    notes : list of str
        How the vocabulary was read and numbered, and the padding row chosen.
    path : str or None
        The vectors file.
    oov, case : str
        The options used (``oov`` is ``"callable"`` for a function).
    """

    def __init__(self, matrix, found, missing, word_index, *, case_matched=None, path=None,
                 oov="zeros", case="exact", vocab_rows=None, padding_idx=0, skipped=(),
                 notes=(), vocabulary=None, from_subwords=None, subword_tokens=()):
        self.matrix = matrix
        # fastText models with oov="subwords": rows computed from n-grams (None otherwise)
        self.from_subwords = from_subwords
        self.subword_tokens = list(subword_tokens)
        self.found = found
        self.missing = missing
        self.word_index = word_index
        self.case_matched = case_matched or {}
        self.path = path
        self.oov = oov
        self.case = case
        self.padding_idx = padding_idx
        self.skipped = list(skipped)
        self.notes = list(notes)
        if vocab_rows is None:
            vocab_rows = np.zeros(matrix.shape[0], dtype=bool)
            for row in word_index.values():
                if 0 <= row < matrix.shape[0] and row != padding_idx:
                    vocab_rows[row] = True
        self._vocab_rows = vocab_rows
        self.vocabulary = vocabulary

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
        """Share of the vocabulary rows (rows some token was looked up for) found in the file."""
        total = int(self._vocab_rows.sum())
        return float(self.found.sum()) / total if total else 0.0

    def token_coverage(self, counts):
        """Share of running tokens whose word has a found row.

        Parameters
        ----------
        counts : mapping or object
            Word -> occurrences (Keras' ``Tokenizer.word_counts``), or an object with a
            ``word_counts`` attribute. Words outside ``word_index``, at rows
            ``>= num_words`` or on the padding row count as not covered.
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
            if row is not None and 0 <= row < n and row != self.padding_idx and self.found[row]:
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
                f"oov={self.oov!r}, case={self.case!r}, padding_idx={self.padding_idx!r}{where}>")

    # --- handing the matrix to a framework (optional dependencies) ------------
    def to_torch(self, freeze=True, padding_idx="auto"):
        """A ``torch.nn.Embedding`` holding a copy of the matrix; ``padding_idx="auto"``
        passes :attr:`padding_idx` on. See :mod:`embload.interop`."""
        from .interop import aligned_to_torch

        return aligned_to_torch(self, freeze=freeze, padding_idx=padding_idx)

    def keras_initializer(self):
        """A Keras 3 initializer that returns the matrix (for ``embeddings_initializer=``)."""
        from .interop import aligned_keras_initializer

        return aligned_keras_initializer(self)

    def to_keras(self, trainable=False, mask_zero=True, **kwargs):
        """A ``keras.layers.Embedding`` carrying the matrix; ``mask_zero=True`` needs the
        padding row to be row 0 (Keras masks index 0 only)."""
        from .interop import aligned_to_keras

        return aligned_to_keras(self, trainable=trainable, mask_zero=mask_zero, **kwargs)

    def to_jax(self, dtype=None):
        """The matrix as a JAX array, e.g. for ``flax.linen.Embed(embedding_init=...)``."""
        from .interop import aligned_to_jax

        return aligned_to_jax(self, dtype=dtype)

    def save_pretrained(self, folder, tokenizer=None, *, normalize=False):
        """Write a static embedding model that ``model2vec.StaticModel.from_pretrained``
        (and sentence-transformers' ``StaticEmbedding.from_model2vec``) open; see
        :func:`embload.interop.aligned_save_pretrained`."""
        from .interop import aligned_save_pretrained

        return aligned_save_pretrained(self, folder, tokenizer=tokenizer, normalize=normalize)

    def summary(self, examples=10):
        """A few lines for a person: coverage, numbering, padding, missing tokens, case matches."""
        total = int(self._vocab_rows.sum())
        lines = [f"aligned {self.num_words} rows x {self.dim} ({self.matrix.dtype})"
                 + (f" from {self.path}" if self.path else ""),
                 f"found: {int(self.found.sum())} of {total} vocabulary rows ({self.coverage:.1%})"]
        if self.from_subwords is not None:
            n_sub = int(self.from_subwords.sum())
            shown = ", ".join(_short(w) for w in self.subword_tokens[:examples])
            more = (f", ... ({len(self.subword_tokens) - examples} more)"
                    if len(self.subword_tokens) > examples else "")
            lines.append(f"from subwords: {n_sub} rows" + (f" ({shown}{more})" if shown else ""))
            lines.append(f"neither: {total - int(self.found.sum()) - n_sub} rows")
        lines += [f"note: {note}" for note in self.notes]
        if self.padding_idx is not None and not any("padding row" in n for n in self.notes):
            lines.append(f"padding row: {self.padding_idx} (zeros)")
        if self.missing:
            shown = ", ".join(_short(w) for w in self.missing[:examples])
            more = f", ... ({len(self.missing) - examples} more)" if len(self.missing) > examples else ""
            lines.append(f"missing ({len(self.missing)}, oov={self.oov!r}): {shown}{more}")
        if self.skipped:
            shown = ", ".join(_short(w) for w in self.skipped[:examples])
            more = f", ... ({len(self.skipped) - examples} more)" if len(self.skipped) > examples else ""
            lines.append(f"skipped by lookup ({len(self.skipped)}): {shown}{more}")
        if self.case_matched:
            items = list(self.case_matched.items())[:examples]
            lines.append(f"matched ignoring case ({len(self.case_matched)}): "
                         + ", ".join(f"{_short(w)}->{_short(f)}" for w, f in items))
        warning = self.coverage_warning()
        if warning:
            lines.append(f"warning: {warning}")
        return "\n".join(lines)

    def coverage_warning(self):
        """The low-coverage message (under 5% of the looked-up rows found, with the
        likely causes), or None: what :class:`~embload.errors.LowCoverageWarning` says."""
        return _coverage_warning(self)


def _short(token, limit=40):
    """A token for a summary line: repr, cut to about ``limit`` characters."""
    return repr(token) if len(token) <= limit else repr(token[:limit]) + "..."


LOW_COVERAGE = 0.05


def _coverage_warning(aligned):
    """The low-coverage message (coverage below 5% of the looked-up rows), or None."""
    total = int(aligned._vocab_rows.sum())
    if not total or aligned.coverage >= LOW_COVERAGE:
        return None
    found = int(aligned.found.sum())
    head = ("no vocabulary row was found" if not found else
            f"only {found} of {total} vocabulary rows ({aligned.coverage:.1%}) were found")
    where = f" in {aligned.path}" if aligned.path else ""
    return (f"{head}{where}. Likely causes: the vocabulary is not the tokenizer's (a vectors "
            "file passed as the vocabulary, or the two arguments swapped); a case mismatch "
            "(a lowercase file and a cased vocabulary: try case='fallback'); a lookup= that "
            "does not give the file's words (subword pieces: strip '\u2581', skip '##' pieces)")


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
    return np.dtype(check_dtype(dtype))


def _fill_oov(matrix, rows, found, oov, seed, plan):
    """Initialise the rows of tokens not found (``rows``: ascending row numbers) by
    ``oov``: a mode, a callable or (for ``specials=``) a vector."""
    if len(rows) == 0 or (isinstance(oov, str) and oov in ("zeros", "subwords")):
        return   # oov="subwords": rows with neither a dictionary word nor n-grams stay zeros
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
    if not isinstance(oov, str):   # specials=vector
        vector = np.asarray(oov, dtype=np.float64)
        if vector.shape != (dim,):
            raise ValueError(f"specials is a vector of shape {vector.shape}; the vectors "
                             f"have dim {dim}")
        matrix[rows] = vector
        return
    if oov == "uniform":  # Keras' default Embedding initializer
        matrix[rows] = rng.uniform(-0.05, 0.05, size=(len(rows), dim))
        return
    if not found.any():
        warn(f"no word was found, so oov={oov!r} has nothing to match; "
             "the rows of missing words stay zeros", RuntimeWarning)
        return
    known = matrix[found].astype(np.float64)
    if oov == "normal":
        matrix[rows] = rng.normal(known.mean(), known.std(), size=(len(rows), dim))
    else:  # "mean"
        matrix[rows] = known.mean(axis=0)


def _finish(plan, matrix, row_found, slot_found, case_matched, oov, seed, path):
    """The scan's rows -> the AlignedEmbedding: scatter distinct words back to their
    tokens' rows, fill the rows not found (oov, specials), say what happened."""
    if isinstance(plan, _DistinctWords):
        plan, matrix, row_found, slot_found, case_matched = _scatter(
            plan, matrix, row_found, slot_found, case_matched)
    elif plan.lookup is not None and case_matched:
        token_of = dict(zip(plan.words, plan.tokens))
        case_matched = {token_of[w]: f for w, f in case_matched.items()}
    if plan.padding_idx is not None:
        row_found[plan.padding_idx] = False
    empty = plan.token_rows & ~row_found
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if plan.specials is None:   # follow oov, in one draw: the matrices of before
        _fill_oov(matrix, np.flatnonzero(empty), row_found, oov, rng, plan)
    else:
        special = plan.special_rows
        _fill_oov(matrix, np.flatnonzero(empty & ~special), row_found, oov, rng, plan)
        _fill_oov(matrix, np.flatnonzero(empty & special), row_found, plan.specials, rng, plan)
    order = np.argsort(plan.rows, kind="stable")
    missing = [plan.tokens[i] for i in order.tolist() if not slot_found[i]]
    aligned = AlignedEmbedding(matrix, row_found, missing, plan.word_index,
                               case_matched=case_matched, path=path,
                               oov="callable" if callable(oov) else oov, case=plan.case,
                               vocab_rows=plan.vocab_rows, padding_idx=plan.padding_idx,
                               skipped=plan.skipped, notes=plan.notes,
                               vocabulary=plan.vocabulary)
    warning = _coverage_warning(aligned)
    if warning:
        warn(LowCoverageWarning(warning))
    return aligned


def _scatter(scan, words_matrix, word_found, word_slot_found, word_case_matched):
    """Rows of distinct words -> rows of the tokens: a row takes the vector of its first
    token (vocabulary order) whose word was found as written, failing that of the first
    found ignoring case -- the rule the scanner applies to the tokens themselves."""
    plan = scan.final
    u = scan.slot_word
    case_words = np.array([w in word_case_matched for w in scan.words], dtype=bool)
    rank = np.where(word_found[u], np.where(case_words[u], 1, 0), 2)
    slots = np.arange(len(u))
    order = np.lexsort((slots, rank))
    rows_sorted = plan.rows[order]
    _, first = np.unique(rows_sorted, return_index=True)
    chosen = order[first]
    chosen = chosen[rank[chosen] < 2]
    matrix = np.zeros((plan.num_words, words_matrix.shape[1]), dtype=words_matrix.dtype)
    row_found = np.zeros(plan.num_words, dtype=bool)
    if len(chosen):
        matrix[plan.rows[chosen]] = words_matrix[u[chosen]]
        row_found[plan.rows[chosen]] = True
    slot_found = rank < 2
    case_matched = {plan.tokens[s]: word_case_matched[plan.words[s]]
                    for s in np.flatnonzero(rank == 1).tolist()}
    return plan, matrix, row_found, slot_found, case_matched


# --------------------------------------------------------------------------------------
# fastText / floret models: dictionary words, and words computed from their subwords
# --------------------------------------------------------------------------------------

def _align_model(path, plan, oov, seed, dtype, threads, progress, member):
    """:func:`load_aligned` on a fastText/floret model (:mod:`embload.fasttext`).

    Only the wanted words are looked up and computed. A word in the dictionary gets its
    vector (its row and n-gram rows averaged, as in ``.vec``); with ``oov="subwords"`` a
    word not in it gets the vector fastText computes from its n-grams, and only a word
    without any n-gram row stays zeros. Other ``oov`` modes treat words outside the
    dictionary as for vectors files. ``case="fallback"``: a word not in the dictionary as
    written takes its lowercase form's vector when that is in the dictionary (before
    subwords are used)."""
    subwords = isinstance(oov, str) and oov == "subwords"
    scan = plan.for_scan()   # distinct looked-up words
    model = fasttext.open_model(path, member)
    threads = resolve_threads(threads)
    words = scan.words
    nslots = len(words)
    keys = [_encode(w) for w in words]
    # rank of each word's vector: 0 in the dictionary as written, 1 its lowercase form
    # is, 2 computed from subwords, 3 none
    source, rank, case_matched = model.lookup_ranked(keys, words, plan.case == "fallback", _encode)
    vectors = np.zeros((nslots, model.dim), dtype=np.float32)
    bar = make_progress(progress, total=nslots, desc=f"aligning {os.path.basename(path)}",
                        unit="words")
    try:
        known = np.flatnonzero(rank <= 1)
        model.entry_vectors_into(source[known], vectors, known, threads)
        bar.update(len(known))
        if subwords:
            rest = np.flatnonzero(rank > 1)
            counts = model.subword_vectors_into([keys[i] for i in rest.tolist()], vectors, rest, threads)
            rank[rest[counts > 0]] = 2
        complete(bar)
    finally:
        bar.close()
    has_vector = rank < (3 if subwords else 2)
    # each scan row takes the best-ranked of its slots, the first in vocabulary order on ties
    slots = np.arange(nslots)
    order = np.lexsort((slots, rank, scan.rows))
    first = np.ones(nslots, dtype=bool)
    first[1:] = scan.rows[order][1:] != scan.rows[order][:-1]
    winners = order[first]
    winners = winners[has_vector[winners]]
    matrix = np.zeros((scan.num_words, model.dim), dtype=dtype)
    matrix[scan.rows[winners]] = vectors[winners].astype(dtype, copy=False)
    row_found = np.zeros(scan.num_words, dtype=bool)
    row_found[scan.rows[winners]] = True
    aligned = _finish(scan, matrix, row_found, has_vector, case_matched, oov, seed, path)
    # rows whose vector came from subwords: found in the file they were not. A row's
    # vector is its chosen token's: the scan's winner, or after the scatter of distinct
    # words, the first token by _scatter's rule (as written or subwords 0, case 1).
    word_sub = rank == 2
    sub_rows = np.zeros(plan.num_words, dtype=bool)
    if isinstance(scan, _DistinctWords):
        token_word = scan.slot_word
        word_case = np.array([w in case_matched for w in words], dtype=bool)
        token_rank = np.where(has_vector[token_word], np.where(word_case[token_word], 1, 0), 2)
        token_order = np.lexsort((np.arange(len(token_word)), token_rank, plan.rows))
        head = np.ones(len(token_order), dtype=bool)
        head[1:] = plan.rows[token_order][1:] != plan.rows[token_order][:-1]
        chosen = token_order[head]
        chosen = chosen[has_vector[token_word[chosen]] & word_sub[token_word[chosen]]]
        sub_rows[plan.rows[chosen]] = True
    else:
        token_word = np.arange(nslots)
        sub_rows[scan.rows[winners[word_sub[winners]]]] = True
    if plan.padding_idx is not None:
        sub_rows[plan.padding_idx] = False
    aligned.found = aligned.found & ~sub_rows
    aligned.from_subwords = sub_rows
    by_row = np.argsort(plan.rows, kind="stable")
    aligned.subword_tokens = [plan.tokens[s] for s in by_row.tolist()
                              if sub_rows[plan.rows[s]] and word_sub[token_word[s]]]
    return aligned


# --------------------------------------------------------------------------------------
# Vectors already in memory (Vectors.align) and cache folders
# --------------------------------------------------------------------------------------

def align_vectors(vectors, word_index, *, num_words=None, oov="zeros", seed=None, case="exact",
                  dtype=None, threads=None, progress=None, start=None, padding_idx="auto",
                  specials=None, lookup=None):
    """Align :class:`~embload.Vectors` already in memory; see :func:`load_aligned`.

    ``dtype=None`` keeps the dtype of ``vectors``. ``threads`` and ``progress`` are
    accepted for symmetry and unused (a gather of rows needs neither).
    """
    _check_oov(oov)
    plan = _Plan(word_index, num_words, case, start=start, padding_idx=padding_idx,
                 specials=specials, lookup=lookup)
    dt = np.dtype(vectors.vectors.dtype) if dtype is None else _check_dtype(dtype)
    return _align_in_memory(vectors, plan.for_scan(), oov, seed, dt)


def _align_in_memory(vectors, plan, oov, seed, dt):
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
    if plan.case == "fallback" and not slot_found.all():
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
    arena, offsets, _ = words.utf8_arena()
    rows = _align.first_lower_rows(_align.WordTable(*_unique_keys(keys)),
                                   dict(zip(keys, range(len(keys)))), arena, offsets)
    return {key: row for key, row in zip(keys, rows.tolist()) if row >= 0}


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------

def load_aligned(path, word_index, *, num_words=None, oov="zeros", seed=None, case="exact",
                 dtype="float32", threads=None, progress=None, member=None, start=None,
                 padding_idx="auto", specials=None, lookup=None):
    """Load only the vectors a tokenizer needs, as an Embedding weight matrix.

    Parameters
    ----------
    path : str or os.PathLike
        A GloVe, word2vec (text or binary) or fastText ``.vec`` file, possibly gzip, bz2,
        xz or zip compressed (told by its bytes), an ``embload`` cache folder, or a
        fastText / floret model (``.bin``, ``.ftz``): dictionary words, and with
        ``oov="subwords"`` any word's vector from its n-grams.
    word_index : mapping, sequence, tokenizer object, str or os.PathLike
        The vocabulary, numbered as the model numbers it (see :mod:`embload.vocabulary`):
        a mapping ``{token: id}`` with ids ``>= 0`` (0-based, 1-based or sparse: an id no
        token holds is a row of zeros; several tokens may share an id, the first found in
        vocabulary order wins it); a list of tokens (torchtext's ``itos``: id =
        position); a torchtext ``Vocab`` (``get_stoi()``), a Hugging Face tokenizer
        (``get_vocab()``), a Keras ``Tokenizer`` (``word_index``, its ``num_words``
        honoured) or any object with a ``vocab`` mapping; or a path to a Keras tokenizer
        JSON, a Hugging Face ``tokenizer.json``, a JSON ``{token: id}``, a sentencepiece
        ``.vocab`` or a one-token-per-line file (numbered by ``start``).
    num_words : int, optional
        Rows of the matrix; tokens numbered ``>= num_words`` are left out (the Keras recipe
        ``min(MAX_NUM_WORDS, len(word_index) + 1)``). Default: what the vocabulary asks
        for (a Keras ``num_words``), else the largest id + 1.
    oov : {"zeros", "uniform", "normal", "mean", "subwords"} or callable
        Rows of tokens not found: computed from the token's subwords ("subwords": fastText
        models only); zeros; U(-0.05, 0.05) (Keras' default initializer); a
        normal with the mean and standard deviation of all values of the found rows; the
        mean found vector; or ``oov(token, dim, rng)`` returning a vector (called for each
        row in increasing order, with the row's first token).
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
    start : {0, 1}, optional
        The id of line 1 of a one-token-per-line vocabulary file. Default: 0 when line 1
        is a special token (``[PAD]``, ``<pad>``, ``<unk>``, ``<s>``, ...), else 1
        (Keras); the choice is in ``.notes`` and :meth:`AlignedEmbedding.summary`.
    padding_idx : "auto", int or None
        The padding row: zeros, not looked up, passed on by ``to_torch()``, masked and
        never trained by :meth:`embload.Embedding.from_pretrained`. "auto": row 0 when no
        token has id 0 (Keras); else the id of a ``<pad>``/``<PAD>``/``[PAD]``/``[pad]``
        token; else none (said in the summary). An int names the row (a token on it
        gets zeros); None reserves none.
    specials : {"zeros", "uniform", "normal", "mean"}, vector, callable or None
        Rows of special tokens the file does not hold (those the vocabulary declares,
        and tokens shaped ``<...>`` or ``[...]`` without blanks): as ``oov`` describes,
        or a vector of length ``dim``. None (default): they follow ``oov``.
    lookup : callable, optional
        ``lookup(token)`` -> the word to look up in the file, or None to leave the token
        out (e.g. ``lambda t: t.removeprefix("\u2581")`` for sentencepiece pieces,
        ``lambda t: None if t.startswith("##") else t`` for WordPiece). Called once per
        token before the scan.

    Returns
    -------
    AlignedEmbedding
        ``.matrix``, ``.found``, ``.missing``, ``.coverage``, ``.padding_idx``,
        ``.notes``, ``.summary()``, ...

    Raises
    ------
    EmbeddingFormatError
        A line (record) of a wanted word is malformed: names file, line and text. Lines
        of other words are not parsed, so their errors go unnoticed. A vocabulary file
        that is a vectors file is refused.
    ValueError, TypeError
        A vocabulary or option that breaks the rules above (e.g. a negative id).

    Warns
    -----
    LowCoverageWarning
        Under 5% of the looked-up rows were found; the message lists the likely causes.
    """
    subwords = isinstance(oov, str) and oov == "subwords"
    if not subwords:
        _check_oov(oov)
    dt = _check_dtype(dtype)
    progress = check_progress(progress)   # the rules of embload.load: "no" is not False
    member = check_member(member)
    plan = _Plan(word_index, num_words, case, start=start, padding_idx=padding_idx,
                 specials=specials, lookup=lookup)
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    kind = source_kind(path)
    if kind == "file" and fasttext.is_model(path, member):
        return _align_model(path, plan, oov, seed, dt, threads, progress, member)
    if subwords:
        what = "a cache folder" if kind == "cache" else f"a {sniff(path, member).format!r} file"
        raise ValueError(f"oov='subwords' needs a fastText or floret model (.bin, .ftz); {path} is "
                         f"{what}, which holds no subword vectors")
    if kind == "cache":
        return _align_cache(path, plan, oov, seed, dt)
    plan = plan.for_scan()   # distinct words; _finish scatters them back to the tokens
    info, head = _sniff(path, member=member)
    if info.dim is None:  # no data at all
        raise EmbeddingFormatError(no_vectors_reason(path, member), path=path)
    if info.format != "word2vec-binary":
        _warn_not_utf8(head, info, plan.words, path)
    del head
    with open_source(path, member) as src:  # a lying header: an error, not a 30 GB matrix
        check_header_dim(info.dim, src, path)
    threads = resolve_threads(threads)
    binary = info.format == "word2vec-binary"
    scanner = _make_scanner(plan, info.dim, dt, threads, path)
    if not binary:
        scanner.lines = info.header_lines  # error messages count the header line
    with open_source(path, member) as src:
        bar = make_progress(progress, total=src.total, desc=f"aligning {os.path.basename(path)}")
        try:
            # the reader's stream and block loop (embload._parse), in C
            if binary:
                # a damaged count past C's range: no file holds that many records anyway
                seen = scanner.scan_binary(src, info.header_length, min(info.count, sys.maxsize),
                                           _STREAM_BLOCK, bar)
            elif src.compression is None:
                seen = scanner.scan_text(src, info.header_length, _WINDOW_PER_THREAD * threads, bar, True)
            else:
                seen = scanner.scan_text(src, info.header_length, _STREAM_BLOCK, bar)
            complete(bar, seen)   # stopped early once every word was found: the rest needs no scan
        finally:
            bar.close()
    if scanner.duplicates:
        _warn_duplicates(scanner.duplicates, plan.words, binary, path)
    if info.count is not None and not scanner.done and scanner.records != info.count:
        # read to the end (a word is missing), so the records were all counted
        if scanner.records == 0:
            raise nothing_after_header(info.count, path)   # as load refuses it
        what = "records" if binary else "lines"
        warn_count_mismatch(path, info.count, scanner.records,
                            f"if the file was cut short, the words of its last {what} are counted "
                            f"as not found" if scanner.records < info.count else "all were read")
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


def _warn_duplicates(duplicates, words, binary, path):
    """Wanted words the file holds more than once (those seen before the scan stopped):
    their first vector was used, as ``load`` keeps the first; say so as ``load`` does."""
    slot, first, again = duplicates[0]
    count = len(duplicates)   # one entry a word
    unit = "record" if binary else "line"
    warn(DuplicateWordsWarning(
        f"{path}: {count} wanted word{'s' if count != 1 else ''} appear{'' if count != 1 else 's'} "
        f"more than once; the first vector of each is used (e.g. {words[slot]!r}: {unit} {again} "
        f"repeats {unit} {first})"))


def _warn_not_utf8(head, info, words, path):
    """Warn when the head of a text file is not UTF-8 and some wanted word is not ASCII.

    Words are matched by their UTF-8 bytes and lines of unwanted words are never decoded,
    so a Latin-1 (or cp1252, ...) file would leave every non-ASCII token out without a
    word; ``embload.load`` refuses such a file (errors='strict'). Only the head the format
    sniffer read anyway is checked: no extra read."""
    data = head[info.header_length:]
    cut = data.rfind(b"\n")
    data = data[:cut + 1] if cut >= 0 else data
    try:
        data.decode("utf-8")
        return
    except UnicodeDecodeError as exc:
        joined = "\n".join(words)
        if joined.isascii():
            return   # ASCII words have the same bytes in every such encoding
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            return   # lone surrogates: the caller spells the file's raw bytes on purpose
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        line = info.header_lines + data.count(b"\n", 0, exc.start) + 1
        text = data[start:end if end >= 0 else len(data)][:80]
        warn(f"{path}, line {line}: the file is not UTF-8 ({exc.reason}): {text!r}; "
             "its words are matched by their UTF-8 bytes, so non-ASCII tokens written "
             "in another encoding are not found (rows follow oov); convert the file "
             "first (e.g. iconv -f latin1 -t utf-8)", UserWarning)


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


def _make_scanner(plan, dim, dtype, threads, path):
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
                          plan.num_words, dim, dtype, threads, plan.general, path)


def _align_cache(path, plan, oov, seed, dtype):
    vectors = open_cache(path)
    return _align_in_memory(vectors, plan.for_scan(), oov, seed, dtype)
