"""fastText and floret models (``.bin``, ``.ftz``): vectors for any word, from its subwords.

A ``.bin`` model holds more than the ``.vec`` file saved next to it: the vectors of
character n-grams, from which fastText makes a vector for any word, including words it
never saw. :func:`load_fasttext` opens a model in well under a second whatever its size
(the input matrix is memory-mapped, not read) and computes vectors only for the words
asked for::

    model = embload.load_fasttext("cc.en.300.bin")
    model["tokenizer"]                 # any word: its row and n-gram rows, averaged
    model.vectors_for(["a", "b"])      # a batch, in C on all cores
    model.to_vectors()                 # Vectors of the dictionary (what fastText's .vec holds)

Every other path reads models through this module: ``embload.load("model.bin")`` returns
``model.to_vectors()``, and ``load_aligned("model.bin", word_index, oov="subwords")``
computes the rows of words the dictionary lacks from their subwords
(:func:`align_model`). The file's bytes are read by :mod:`embload._fasttext`.
"""

import mmap as _mmap
import os
import struct
import warnings
from dataclasses import dataclass

import numpy as np

from . import _fasttext
from ._runtime import make_progress, resolve_threads
from ._source import detect_compression, open_source
from .errors import EmbeddingFormatError
from .vectors import Vectors, WordIndex, WordList

__all__ = ["load_fasttext", "FastTextModel", "FastTextArgs", "SubwordAlignedEmbedding", "align_model"]

# Words per call of the C kernel when a progress bar is shown.
_CHUNK = 1 << 16


@dataclass(frozen=True)
class FastTextArgs:
    """The training arguments stored in a model (fastText's ``Args``).

    ``model`` is ``"cbow"``, ``"skipgram"`` or ``"supervised"``; ``loss`` ``"hs"``,
    ``"ns"``, ``"softmax"`` or ``"ova"``; ``mode`` ``"fasttext"`` or ``"floret"``
    (``hash_count``: floret's hashes per n-gram). Subwords are n-grams of ``minn`` to
    ``maxn`` characters hashed into ``bucket`` rows.
    """

    dim: int
    ws: int
    epoch: int
    min_count: int
    neg: int
    word_ngrams: int
    loss: str
    model: str
    bucket: int
    minn: int
    maxn: int
    lr_update_rate: int
    t: float
    mode: str = "fasttext"
    hash_count: int = 1


def _open_buffer(path):
    """The model's bytes: a read-only memory map, or the decompressed bytes of a
    gzip/bz2/xz/zip file (None when the file is empty)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if not head:
            return None, None
        compression = detect_compression(head)
        if compression is None:
            return _mmap.mmap(handle.fileno(), 0, access=_mmap.ACCESS_READ), None
    with open_source(path) as src:
        chunks = []
        while True:
            block = src.read(1 << 24)
            if not block:
                break
            chunks.append(block)
    return b"".join(chunks), compression


def load_fasttext(path, *, mmap=True, errors="strict"):
    """Open a fastText (``.bin``, quantized ``.ftz``) or floret model.

    Parameters
    ----------
    path : str or os.PathLike
        The model; gzip/bz2/xz/zip-compressed files are decompressed into memory.
    mmap : bool, default True
        Map the input matrix read-only (opening takes the time to read the dictionary,
        whatever the matrix size; pages are read when rows are used) instead of reading
        it into memory. A quantized matrix (small) stays a view of the map either way.
    errors : str
        For dictionary words that are not valid UTF-8, as in ``bytes.decode``
        (``"strict"`` raises, naming the entry). Subwords are always hashed from the
        file's bytes, as fastText does.

    Returns
    -------
    FastTextModel

    Raises
    ------
    EmbeddingFormatError
        A truncated or damaged file: the message names the section (header, dictionary
        entry N, pruneidx, input matrix) and byte offset. A gensim pickle
        (``FastText.save()``) is recognised and the message says how to read it.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    buffer, compression = _open_buffer(path)
    if buffer is None:
        raise EmbeddingFormatError("header at byte 0: the file is empty", path=path)
    from .formats import refuse_pickle

    refuse_pickle(bytes(buffer[:_fasttext.SNIFF_BYTES]), path)
    parsed = _fasttext.parse(buffer, path)
    if parsed.trailing:
        warnings.warn(f"{path}: {parsed.trailing} bytes after the end of the model were ignored",
                      UserWarning, stacklevel=2)
    if not mmap and compression is None and not parsed.quantized:
        # read the file up to the end of the input matrix (not the output matrix after it)
        # and parse that copy; the map is dropped
        size = parsed.layout["after input matrix"]
        data = bytearray(size)
        with open(path, "rb") as handle:
            got = handle.readinto(data)
        if got != size:
            raise EmbeddingFormatError("the file changed while it was read", path=path)
        del parsed
        try:
            buffer.close()
        except BufferError:  # something still views it: the map goes when that does
            pass
        parsed = _fasttext.parse(data, path, check_output=False)
    return FastTextModel(parsed, errors=errors, compression=compression)


class FastTextModel:
    """A fastText or floret model: its dictionary, and a vector for any word.

    Attributes
    ----------
    words : WordList
        The dictionary's words (not the labels of a supervised model), in file order.
    args : FastTextArgs
        The training arguments (``dim``, ``minn``, ``maxn``, ``bucket``, ``model``, ...).
    counts : ndarray of int64
        Occurrences of each word in the training data.
    labels : list of str
        A supervised model's labels (``"__label__..."``); empty otherwise.
    version : int or None
        The file format version (None: the oldest layout, before the magic number).
    quantized : bool
        The input matrix is product-quantized (``.ftz``).
    pruned : bool
        Quantization kept only some n-gram buckets (``pruneidx``).
    matrix : ndarray or None
        The dense input matrix (``nwords + bucket`` rows; a read-only memory map),
        None when quantized.
    path : str
    """

    def __init__(self, parsed, *, errors="strict", compression=None):
        self._parsed = parsed
        self.path = parsed.path
        self.args = FastTextArgs(**parsed.args)
        self.version = parsed.version
        self.quantized = bool(parsed.quantized)
        self.pruned = parsed.prune_size >= 0
        self.compression = compression
        self.matrix = parsed.matrix
        nwords = parsed.nwords
        self.counts = parsed.counts[:nwords]
        self.ntokens = int(parsed.ntokens)
        arena, offsets = parsed.arena, parsed.offsets
        self._errors = errors
        self.words, self._raw_ids = self._decode_words(arena, offsets[:nwords + 1], errors)
        labels = offsets[nwords:]
        raw = arena.tobytes() if parsed.nlabels else b""
        self.labels = [raw[labels[i]:labels[i + 1] - 1].decode("utf-8", "replace")
                       for i in range(parsed.nlabels)]

    def _decode_words(self, arena, offsets, errors):
        """The words as a WordList, and whether a word's str differs from its bytes."""
        try:
            return WordList(arena, offsets), False
        except ValueError:
            pass
        raw = arena.tobytes()
        words = []
        for i in range(len(offsets) - 1):
            word = raw[offsets[i]:offsets[i + 1] - 1]
            try:
                words.append(word.decode("utf-8", errors))
            except UnicodeDecodeError as exc:
                raise EmbeddingFormatError(
                    f"dictionary entry {i + 1}: the word is not valid UTF-8 ({exc.reason} at byte "
                    f"{exc.start}); pass errors='replace', 'backslashreplace' or 'surrogateescape' "
                    f"to read it anyway", path=self.path, text=word) from None
        # the words no longer are the bytes the C index holds: look them up by str
        return WordList.from_words(words), True

    # --- the dictionary ---------------------------------------------------------------
    @property
    def dim(self):
        return self.args.dim

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        """``word`` is in the dictionary (labels are not words)."""
        return isinstance(word, str) and word in self.words

    def __repr__(self):
        kind = "floret" if self.args.mode == "floret" else "fastText"
        quant = ", quantized" if self.quantized else ""
        pruned = ", pruned" if self.pruned else ""
        return (f"<FastTextModel {kind} {self.args.model}: {len(self)} words x {self.dim}, "
                f"{self.args.bucket} buckets, n-grams {self.args.minn}-{self.args.maxn}"
                f"{quant}{pruned}, path={self.path!r}>")

    # --- vectors ----------------------------------------------------------------------
    def __getitem__(self, word):
        """The vector of any word (float32); zeros for a word with no subword rows."""
        if not isinstance(word, str):
            raise TypeError(f"words are str, not {type(word).__name__}")
        return self.vectors_for([word], threads=1)[0]

    def vectors_for(self, words, *, threads=None, progress=None):
        """Vectors of ``words`` (a sequence of str), shape ``(len(words), dim)`` float32.

        Each is what fastText's ``get_word_vector`` returns: the mean of the word's own row
        (if in the dictionary) and its n-gram rows, zeros when it has neither.
        """
        return self._compute(words, threads, progress)[0]

    def _compute(self, words, threads, progress, desc="subword vectors"):
        """(vectors, in-dictionary row or -1, subword rows averaged) of ``words``."""
        words = words if isinstance(words, WordList) else WordList.from_words(words)
        n = len(words)
        out = np.zeros((n, self.dim), dtype=np.float32)
        ids = np.full(n, -1, dtype=np.int64)
        counts = np.zeros(n, dtype=np.int64)
        threads = resolve_threads(threads)
        arena, offsets = words._utf8_arena()
        arena = np.frombuffer(arena, dtype=np.uint8) if isinstance(arena, (bytes, bytearray)) \
            else np.asarray(arena).view(np.uint8).reshape(-1)
        bar = make_progress(progress if n > _CHUNK else False, total=n, desc=desc, unit="words")
        try:
            for start in range(0, n, _CHUNK):
                stop = min(n, start + _CHUNK)
                off = offsets[start:stop + 1]
                if self._raw_ids:
                    # words decoded with an error handler: find them by str, compute the
                    # found ones from their bytes in the file
                    found = np.fromiter((self.words.find(words[i]) for i in range(start, stop)),
                                        dtype=np.int64, count=stop - start)
                    hit = np.flatnonzero(found >= 0)
                    miss = np.flatnonzero(found < 0)
                    part = np.zeros((stop - start, self.dim), dtype=np.float32)
                    sub = np.zeros((len(hit), self.dim), dtype=np.float32)
                    counts[start + hit] = self._parsed.entry_vectors(found[hit], sub, threads)
                    part[hit] = sub
                    ids[start:stop] = found
                    if len(miss):
                        miss_words = WordList.from_words([words[start + i] for i in miss])
                        a, o = miss_words._utf8_arena()
                        sub = np.zeros((len(miss), self.dim), dtype=np.float32)
                        _, c = self._parsed.vectors(a, o, sub, None, threads)
                        counts[start + miss] = c
                        part[miss] = sub
                    out[start:stop] = part
                else:
                    i, c = self._parsed.vectors(arena[off[0]:off[-1]], off - off[0],
                                                out[start:stop], None, threads)
                    ids[start:stop] = i
                    counts[start:stop] = c
                bar.update(stop - start)
        finally:
            bar.close()
        return out, ids, counts

    def ngrams(self, word):
        """The subwords of ``word`` and the matrix row of each, in fastText's order:
        ``[(subword, row), ...]``; the word itself first when it is in the dictionary.

        Subwords are taken from ``"<" + word + ">"`` (floret also hashes that whole
        string). A pruned model leaves out n-grams whose bucket it dropped.
        """
        if not isinstance(word, str):
            raise TypeError(f"words are str, not {type(word).__name__}")
        raw = word.encode("utf-8", "surrogateescape") if self._errors == "surrogateescape" \
            else word.encode("utf-8", "surrogatepass")
        wrapped = b"<" + raw + b">"
        out = []
        for start, end, row in self._parsed.subwords(raw):
            text = word if start < 0 else wrapped[start:end].decode("utf-8", "surrogatepass")
            out.append((text, row))
        return out

    def to_vectors(self, *, threads=None, progress=None, limit=None, dtype="float32"):
        """:class:`~embload.Vectors` of the dictionary's words: what fastText writes to
        the ``.vec`` file (each word's row and n-gram rows averaged)."""
        n = len(self.words) if limit is None else min(int(limit), len(self.words))
        threads = resolve_threads(threads)
        out = np.zeros((n, self.dim), dtype=np.float32)
        bar = make_progress(progress if n > _CHUNK else False, total=n,
                            desc=f"vectors of {os.path.basename(self.path or 'model')}", unit="words")
        try:
            for start in range(0, n, _CHUNK):
                stop = min(n, start + _CHUNK)
                self._parsed.entry_vectors(np.arange(start, stop, dtype=np.int64), out[start:stop], threads)
                bar.update(stop - start)
        finally:
            bar.close()
        if np.dtype(dtype) != out.dtype:
            out = out.astype(dtype)
        words = self.words if n == len(self.words) else WordList.from_words(self.words[:n])
        if words.build_index():
            from .io import _drop_duplicates

            listed, out = _drop_duplicates(words.tolist(), out, None, self.path)
            words = WordList.from_words(listed)
        return Vectors(words, out, key_to_index=WordIndex(words), path=self.path, format="fasttext-bin")

    def describe(self):
        """What ``embload info`` shows about the model: args, counts, quantization, pruning."""
        parsed = self._parsed
        info = {"kind": "floret" if self.args.mode == "floret" else "fastText",
                "version": self.version, "args": dict(parsed.args), "words": len(self.words),
                "labels": len(self.labels), "tokens": self.ntokens,
                "quantized": self.quantized, "pruned": self.pruned,
                "input_rows": int(parsed.rows),
                "memory_mapped": self.matrix is not None and isinstance(parsed.buffer, _mmap.mmap)}
        if self.pruned:
            info["kept_buckets"] = int(len(parsed.prune_keys))
        return info


# --------------------------------------------------------------------------------------
# embload.load and load_aligned on a model
# --------------------------------------------------------------------------------------

def load_vectors(path, opts):
    """``embload.load`` of a model: the dictionary's vectors (:meth:`FastTextModel.to_vectors`)."""
    model = load_fasttext(path, errors=opts.errors)
    return model.to_vectors(threads=opts.threads, progress=opts.progress, limit=opts.limit,
                            dtype=opts.dtype)


def _words_arena(keys):
    """One arena of UTF-8 keys, each followed by a separator, and its offsets."""
    lengths = np.fromiter((len(k) + 1 for k in keys), dtype=np.int64, count=len(keys))
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    arena = np.frombuffer(b"".join(k + b"\n" for k in keys) or b"\n", dtype=np.uint8)
    return arena, offsets


def _is_path(path):
    return isinstance(path, (str, bytes, os.PathLike))


def is_model(path, member=None):
    """True when ``path`` is a fastText/floret model file (told by its bytes), including
    one whose header is damaged after the magic number (the reader then says what is
    wrong)."""
    from ._source import read_head
    from .formats import _sniff_model

    if not _is_path(path) or not os.path.isfile(path):
        return False
    path = os.fsdecode(os.fspath(path))
    try:
        return _sniff_model(path, member) is not None
    except EmbeddingFormatError:
        head = read_head(path, 4, member)[0]
        return head == struct.pack("<i", _fasttext.MAGIC)


def align_model(path, word_index, *, num_words=None, oov="subwords", seed=None, case="exact",
                dtype="float32", threads=None, progress=None, member=None):
    """:func:`embload.load_aligned` on a fastText/floret model.

    Only the wanted words are looked up and computed. A word in the dictionary gets its
    vector (its row and n-gram rows averaged, as in ``.vec``); with ``oov="subwords"``
    a word not in it gets the vector fastText computes from its n-grams, and only a
    word without any n-gram row (e.g. shorter than ``minn`` + 2 characters on a model
    that does not know it) stays zeros. Other ``oov`` modes treat words outside the
    dictionary as :func:`~embload.load_aligned` does for vectors files.

    ``case="fallback"``: a word not in the dictionary as written takes the vector of its
    lowercase form when that is in the dictionary (before subwords are used).
    """
    from .align import _Plan, _check_dtype, _check_oov, _encode, _fill_oov

    if not (isinstance(oov, str) and oov == "subwords"):
        _check_oov(oov)
    dt = _check_dtype(dtype)
    plan = _Plan(word_index, num_words, case)
    if not _is_path(path):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    subwords = isinstance(oov, str) and oov == "subwords"
    if not is_model(path, member):
        from .formats import sniff

        kind = "a cache folder" if os.path.isdir(path) else f"a {sniff(path, member).format!r} file"
        raise ValueError(f"oov='subwords' needs a fastText or floret model (.bin, .ftz); {path} is "
                         f"{kind}, which holds no subword vectors")
    buffer, _ = _open_buffer(path)
    parsed = _fasttext.parse(buffer, path)
    threads = resolve_threads(threads)
    dim = parsed.args["dim"]
    nslots = len(plan.words)
    keys = [_encode(w) for w in plan.words]
    arena, offsets = _words_arena(keys)
    ids = parsed.lookup(arena, offsets)
    vectors = np.zeros((nslots, dim), dtype=np.float32)
    # rank of each slot's vector: 0 in the dictionary as written, 1 its lowercase form is,
    # 2 from subwords, 3 none
    rank = np.full(nslots, 3, dtype=np.int64)
    source = ids.copy()
    rank[ids >= 0] = 0
    case_matched = {}
    if case == "fallback":
        todo = np.flatnonzero(ids < 0)
        if len(todo):
            lower_keys = [_encode(plan.words[s].lower()) for s in todo.tolist()]
            lower_ids = parsed.lookup(*_words_arena(lower_keys))
            hit = lower_ids >= 0
            source[todo[hit]] = lower_ids[hit]
            rank[todo[hit]] = 1
            for s, i in zip(todo[hit].tolist(), lower_ids[hit].tolist()):
                case_matched[plan.words[s]] = _entry_word(parsed, i)
    known = np.flatnonzero(rank <= 1)
    bar = make_progress(progress, total=nslots, desc=f"aligning {os.path.basename(path)}",
                        unit="words")
    try:
        if len(known):
            part = np.zeros((len(known), dim), dtype=np.float32)
            parsed.entry_vectors(source[known], part, threads)
            vectors[known] = part
        bar.update(len(known))
        if subwords:
            rest = np.flatnonzero(rank > 1)
            if len(rest):
                sub_arena, sub_offsets = _words_arena([keys[s] for s in rest.tolist()])
                part = np.zeros((len(rest), dim), dtype=np.float32)
                _, counts = parsed.vectors(sub_arena, sub_offsets, part, None, threads)
                vectors[rest] = part
                rank[rest[counts > 0]] = 2
        bar.update(nslots - len(known))
    finally:
        bar.close()
    # each row takes the best-ranked of its slots, the first in word_index order on ties
    slots = np.arange(nslots)
    order = np.lexsort((slots, rank, plan.rows))
    first = np.ones(nslots, dtype=bool)
    first[1:] = plan.rows[order][1:] != plan.rows[order][:-1]
    winners = order[first]
    winners = winners[rank[winners] < 3]
    matrix = np.zeros((plan.num_words, dim), dtype=dt)
    matrix[plan.rows[winners]] = vectors[winners].astype(dt, copy=False)
    row_found = np.zeros(plan.num_words, dtype=bool)
    row_found[plan.rows[winners[rank[winners] <= 1]]] = True
    row_subwords = np.zeros(plan.num_words, dtype=bool)
    row_subwords[plan.rows[winners[rank[winners] == 2]]] = True
    row_found[0] = row_subwords[0] = False
    if not subwords:
        oov_rows = np.flatnonzero(plan.vocab_rows & ~row_found)
        _fill_oov(matrix, oov_rows, row_found, oov, seed, plan)
    by_row = np.argsort(plan.rows, kind="stable")
    got = rank < (3 if subwords else 2)
    missing = [plan.words[s] for s in by_row.tolist() if not got[s]]
    won = np.zeros(nslots, dtype=bool)
    won[winners] = True
    from_subwords = [plan.words[s] for s in by_row.tolist() if won[s] and rank[s] == 2]
    return SubwordAlignedEmbedding(
        matrix, row_found, missing, plan.word_index, case_matched=case_matched, path=path,
        oov="callable" if callable(oov) else oov, case=plan.case, vocab_rows=plan.vocab_rows,
        from_subwords=row_subwords, subword_words=from_subwords)


def _entry_word(parsed, i):
    return parsed.arena[parsed.offsets[i]:parsed.offsets[i + 1] - 1].tobytes().decode("utf-8", "replace")


def _aligned_class():
    from .align import AlignedEmbedding

    return AlignedEmbedding


class SubwordAlignedEmbedding(_aligned_class()):
    """An :class:`~embload.AlignedEmbedding` from a fastText model, which also says which
    rows were computed from subwords.

    ``found`` marks rows whose word is in the model's dictionary; ``from_subwords`` rows
    computed from the n-grams of a word the dictionary lacks (``oov="subwords"``);
    ``missing`` lists the words that got neither (their rows follow ``oov``: zeros for
    ``"subwords"``). ``subword_words`` lists the words computed from subwords.
    """

    def __init__(self, *args, from_subwords=None, subword_words=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.from_subwords = from_subwords
        self.subword_words = list(subword_words)

    def summary(self, examples=10):
        lines = super().summary(examples).split("\n")
        total = int(self._vocab_rows.sum())
        n_sub = int(self.from_subwords.sum())
        neither = total - int(self.found.sum()) - n_sub
        shown = ", ".join(repr(w) for w in self.subword_words[:examples])
        more = f", ... ({len(self.subword_words) - examples} more)" if len(self.subword_words) > examples else ""
        lines.insert(2, f"from subwords: {n_sub} rows" + (f" ({shown}{more})" if shown else ""))
        lines.insert(3, f"neither: {neither} rows")
        return "\n".join(lines)
