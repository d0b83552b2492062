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
(:func:`embload.load_aligned` on a model, which uses :func:`open_model`). The file's bytes are read by :mod:`embload._fasttext`.

The similarity queries (``model.most_similar(...)`` and the others) are convenience
methods over the dictionary's words: their import of :mod:`embload.similarity`, a
higher stage, happens inside the methods (as the import of embload.align does).
"""

import mmap as _mmap
import os
import struct
from dataclasses import dataclass

import numpy as np

from . import _fasttext
from ._checks import check_member
from ._progress import make_progress
from ._threads import resolve_threads
from ._source import detect_compression, open_source
from .errors import EmbeddingFormatError, warn
from .vectors import Vectors, WordIndex, WordList

__all__ = ["load_fasttext", "FastTextModel", "FastTextArgs", "open_model", "is_model"]

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


def _open_buffer(path, member=None):
    """The model's bytes: a read-only memory map, or the decompressed bytes of a
    gzip/bz2/xz/zip file (``member``: the zip archive's member to read; None when the file
    is empty)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if not head:
            return None, None
        compression = detect_compression(head)
        if compression is None and member is None:
            return _mmap.mmap(handle.fileno(), 0, access=_mmap.ACCESS_READ), None
    # (a member= for a file that is no zip archive: open_source says so)
    # one growing buffer, not blocks joined at the end: a model of gigabytes then needs its
    # size in memory, not twice that (a bytearray grows in place)
    with open_source(path, member) as src:
        data = bytearray()
        while True:
            block = src.read(1 << 24)
            if not block:
                break
            data += block
    return memoryview(data).toreadonly(), compression


def load_fasttext(path, *, mmap=True, errors="strict", member=None):
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
    member : str, optional
        For a zip archive: the member to read. Needed when it holds several files.

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
    buffer, compression = _open_buffer(path, check_member(member))
    if buffer is None:
        raise EmbeddingFormatError("header at byte 0: the file is empty", path=path)
    from .formats import refuse_pickle

    refuse_pickle(bytes(buffer[:_fasttext.SNIFF_BYTES]), path)
    parsed = _fasttext.parse(buffer, path)
    if parsed.trailing:
        warn(f"{path}: {parsed.trailing} bytes after the end of the model were ignored", UserWarning)
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
        if self._raw_ids:
            return self.vectors_for([word], threads=1)[0]
        # one word straight to C: a batch's arrays cost more than the word
        out = np.zeros(self.dim, dtype=np.float32)
        self._parsed.word_vector(self._word_bytes(word), out)
        return out

    def _word_bytes(self, word):
        """The bytes whose subwords are hashed for ``word``: UTF-8, lone surrogates as
        their UTF-8 forms (as WordList stores them); but when the model was read with
        errors="surrogateescape", escaped bytes are the bytes they stand for, the ones a
        dictionary word has in the file (as load_aligned's keys are made)."""
        if self._errors == "surrogateescape":
            try:
                return word.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:  # a surrogate that escapes no byte
                pass
        return word.encode("utf-8", "surrogatepass")

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
        arena, offsets, _ = words.utf8_arena()
        # the WordList holds lone surrogates in their UTF-8 forms, not the escaped bytes
        by_str = self._raw_ids or (self._errors == "surrogateescape" and words.errors != "strict")
        arena = np.frombuffer(arena, dtype=np.uint8) if isinstance(arena, (bytes, bytearray)) \
            else np.asarray(arena).view(np.uint8).reshape(-1)
        bar = make_progress(progress if n > _CHUNK else False, total=n, desc=desc, unit="words")
        try:
            for start in range(0, n, _CHUNK):
                stop = min(n, start + _CHUNK)
                off = offsets[start:stop + 1]
                if by_str:
                    # words decoded with an error handler: find them by str, compute the
                    # found ones from their bytes in the file, the others from _word_bytes
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
                        a, o = _words_arena([self._word_bytes(words[start + i]) for i in miss])
                        sub = np.zeros((len(miss), self.dim), dtype=np.float32)
                        _, c = self._parsed.vectors(a, o, sub, threads)
                        counts[start + miss] = c
                        part[miss] = sub
                    out[start:stop] = part
                else:
                    i, c = self._parsed.vectors(arena[off[0]:off[-1]], off - off[0],
                                                out[start:stop], threads)
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
        raw = self._word_bytes(word)
        wrapped = b"<" + raw + b">"
        # an n-gram of escaped bytes is shown as the escapes it was given as
        handler = "surrogateescape" if self._errors == "surrogateescape" else "surrogatepass"
        out = []
        for start, end, row in self._parsed.subwords(raw):
            text = word if start < 0 else wrapped[start:end].decode("utf-8", handler)
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
            from .wordtable import drop_duplicates

            listed, out = drop_duplicates(words.tolist(), out, None, self.path)
            words = WordList.from_words(listed)
        return Vectors(words, out, key_to_index=WordIndex(words), path=self.path, format="fasttext-bin")

    # --- similarity queries over the dictionary's words (embload.similarity) ------------
    # The answers are dictionary words, scored against their full vectors (to_vectors: a
    # word's row and n-gram rows averaged, made once per model and kept with its norms).
    # A query word outside the dictionary takes its subword vector, as gensim's
    # FastTextKeyedVectors does (there ``word in kv`` is true for any word when the model
    # has n-gram buckets); it is not excluded from the answers, since it is none of them.
    # A model without buckets raises KeyError for such a word. A word with no n-gram at
    # all has the zero vector: cosine 0 with everything.
    def _word_table(self):
        """(Vectors of the dictionary's words, the subword vector of any other word or None)."""
        table = getattr(self, "_similarity_table", None)
        if table is None:
            table = self._similarity_table = self.to_vectors(progress=False)
        oov = None
        if self.args.bucket > 0:
            def oov(word):
                return self.vectors_for([word], threads=1)[0]
        return table, oov

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None, **kwargs):
        """Nearest dictionary words; see :func:`embload.similarity.most_similar`."""
        from .similarity import most_similar

        table, oov = self._word_table()
        return most_similar(table, positive, negative, topn, restrict_vocab, oov=oov, **kwargs)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None, **kwargs):
        """3CosMul nearest dictionary words; see :func:`embload.similarity.most_similar_cosmul`."""
        from .similarity import most_similar_cosmul

        table, oov = self._word_table()
        return most_similar_cosmul(table, positive, negative, topn, restrict_vocab, oov=oov, **kwargs)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None, **kwargs):
        """Dictionary words nearest to ``vector``; see :func:`embload.similarity.similar_by_vector`."""
        from .similarity import similar_by_vector

        return similar_by_vector(self._word_table()[0], vector, topn, restrict_vocab, **kwargs)

    def most_similar_batch(self, queries, topn=10, restrict_vocab=None, **kwargs):
        """``most_similar`` for many words or vectors in one pass; see
        :func:`embload.similarity.most_similar_batch`."""
        from .similarity import most_similar_batch

        table, oov = self._word_table()
        return most_similar_batch(table, queries, topn, restrict_vocab, oov=oov, **kwargs)

    def similarity(self, w1, w2):
        """Cosine similarity of two words (any words: subword vectors outside the dictionary)."""
        from .similarity import similarity

        table, oov = self._word_table()
        return similarity(table, w1, w2, oov=oov)

    def doesnt_match(self, words):
        """The word furthest from the others' mean; see :func:`embload.similarity.doesnt_match`."""
        from .similarity import doesnt_match

        table, oov = self._word_table()
        return doesnt_match(table, words, oov=oov)

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
    model = load_fasttext(path, errors=opts.errors, member=opts.member)
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




class _ModelLookup:
    """What alignment asks of a model: find words (as written, or their lowercase form)
    and compute the vectors of a batch of them, into rows of an output matrix."""

    def __init__(self, parsed):
        self._parsed = parsed
        self.dim = parsed.args["dim"]

    def lookup_ranked(self, keys, words, fallback, encode):
        """(entry ids, rank, case matches) of the UTF-8 ``keys`` (``encode(word)`` makes one): rank 0 in the dictionary
        as written, 1 its lowercase form is (``fallback``), 3 not found."""
        ids = self._parsed.lookup(*_words_arena(keys))
        rank = np.where(ids >= 0, 0, 3).astype(np.int64)
        source = ids.copy()
        case_matched = {}
        if fallback:
            todo = np.flatnonzero(ids < 0)
            if len(todo):
                lower = [encode(words[i].lower()) for i in todo.tolist()]
                lower_ids = self._parsed.lookup(*_words_arena(lower))
                hit = lower_ids >= 0
                source[todo[hit]] = lower_ids[hit]
                rank[todo[hit]] = 1
                for i, entry in zip(todo[hit].tolist(), lower_ids[hit].tolist()):
                    case_matched[words[i]] = self._entry_word(entry)
        return source, rank, case_matched

    def entry_vectors_into(self, ids, out, positions, threads):
        """Vectors of dictionary entries ``ids`` into ``out[positions]``."""
        if len(ids):
            part = np.zeros((len(ids), self.dim), dtype=np.float32)
            self._parsed.entry_vectors(ids, part, threads)
            out[positions] = part

    def subword_vectors_into(self, keys, out, positions, threads):
        """Vectors computed from the n-grams of ``keys`` into ``out[positions]``; returns
        how many n-gram rows each had (0: none, the row stays zeros)."""
        if not keys:
            return np.zeros(0, dtype=np.int64)
        part = np.zeros((len(keys), self.dim), dtype=np.float32)
        _, counts = self._parsed.vectors(*_words_arena(keys), part, threads)
        out[positions] = part
        return np.asarray(counts)

    def _entry_word(self, i):
        parsed = self._parsed
        return parsed.arena[parsed.offsets[i]:parsed.offsets[i + 1] - 1].tobytes().decode("utf-8", "replace")


def open_model(path, member=None):
    """The parsed model at ``path`` (memory-mapped where plain) for alignment."""
    buffer, _ = _open_buffer(path, member)
    return _ModelLookup(_fasttext.parse(buffer, path))
