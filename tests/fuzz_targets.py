"""Fuzz targets: every embload parser of untrusted bytes, one entry each.

``TARGETS`` maps a name to a function ``f(data: bytes)``. The contract every target checks:
whatever the bytes, the parser returns a result or raises one of ``EXPECTED`` (an
:class:`~embload.EmbeddingFormatError`, a ``ValueError``, a ``UnicodeDecodeError`` - both
are ``ValueError`` subclasses - or the documented exceptions listed there); never a crash,
a hang, a ``MemoryError`` because a header lies, or any other exception. The callers
(``scripts/fuzz.py`` with atheris, ``tests/test_fuzz.py`` with hypothesis and the kept
corpus) call :func:`check`, which lets exactly those exceptions through.

Adding a parser is one entry (see ``fasttext_bin`` below)::

    @target("name", seeds=lambda: [b"a first input"])
    def name(data):
        parse(_file(data, "x.bin"))

``SEEDS[name]()`` gives the starting inputs (from the bundled ``data/``); inputs that ever
crashed or hung are kept in ``tests/fuzz_corpus/<name>/`` and replayed by the tests.

Readers take paths, so each input is written to a file in a private folder (on
``/dev/shm`` when there is one). Where a reader has several code paths for the same bytes
(one thread or two, a whole-file map or small blocks whose edges fall inside records), the
input's length picks one, so the bytes themselves stay the reader's input.
"""
import gzip
import io
import json
import os
import pathlib
import shutil
import tempfile
import warnings

import numpy as np

import embload
from embload import _text, text
from embload.errors import EmbeddingFormatError

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CORPUS = pathlib.Path(__file__).resolve().parent / "fuzz_corpus"

# What a parser may raise on bad bytes. UnicodeDecodeError and EmbeddingFormatError are
# ValueErrors; they are named for the reader of this contract.
EXPECTED = (EmbeddingFormatError, UnicodeDecodeError, ValueError)

TARGETS = {}
SEEDS = {}


def target(name, seeds=lambda: []):
    """Register ``function(data: bytes)`` as fuzz target ``name`` with its seed inputs."""
    def register(function):
        TARGETS[name] = function
        SEEDS[name] = seeds
        return function
    return register


def check(name, data):
    """Run target ``name`` on ``data``; swallow only the exceptions its contract allows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # header/count mismatches warn by design
        try:
            TARGETS[name](bytes(data))
        except EXPECTED:
            pass


# --- files for path-taking readers -----------------------------------------------------
_workdir = None


def _folder():
    global _workdir
    if _workdir is None or not os.path.isdir(_workdir):
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        _workdir = tempfile.mkdtemp(prefix="embload-fuzz-", dir=base)
    return _workdir


def _file(data, name):
    path = os.path.join(_folder(), name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _data_files(*names):
    def seeds():
        return [(DATA / name).read_bytes() for name in names if (DATA / name).is_file()]
    return seeds


def _head_lines(name, lines):
    """The first ``lines`` lines of a bundled text file (small seeds mutate faster)."""
    def seeds():
        path = DATA / name
        if not path.is_file():
            return []
        head = b"".join(path.read_bytes().splitlines(keepends=True)[:lines])
        return [head]
    return seeds


def _all(*makers):
    return lambda: [seed for make in makers for seed in make()]


# --- what the readers' results are put through ------------------------------------------
def _use(vectors):
    """Touch what a loaded result offers: the words (UTF-8 arena), the C hash index, rows."""
    words = vectors.words
    n = len(words)
    assert vectors.vectors.shape[0] == n
    for row in (0, n // 2, n - 1) if n else ():
        word = words[row]
        assert vectors.key_to_index[word] == row
        assert word in vectors
    assert "\x00not a word\x00" not in vectors


# Three code paths for the same bytes, picked by the input's length (not its bytes).
_LOAD_MODES = (
    {},                                                        # defaults: whole file, all cores
    {"threads": 1, "block_size": 61, "min_piece": 7},          # block edges inside records
    {"threads": 2, "block_size": 1009, "min_piece": 5},        # and split between threads
)


def _load(data, name, **kwargs):
    mode = _LOAD_MODES[len(data) % len(_LOAD_MODES)]
    options = embload.LoadOptions(progress=False, **mode, **kwargs)
    _use(embload.load(_file(data, name), options=options))


# --- the vectors readers ------------------------------------------------------------------
def _compressed_seeds():
    """The heads of the bundled files, compressed as the bundled compressed copies are
    (small seeds: the mutator reaches the interesting bytes sooner)."""
    import bz2
    import lzma
    import zipfile

    seeds = []
    for name, pack in (("sample.glove.txt", lambda b: gzip.compress(b, mtime=0)),
                       ("sample.vec", bz2.compress), ("sample.bin", lzma.compress)):
        for head in (_binary_seeds() if name == "sample.bin" else _head_lines(name, 4)()):
            seeds.append(pack(head))
    for head in _head_lines("sample.glove.txt", 4)():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(zipfile.ZipInfo("sample.glove.txt", (2020, 1, 1, 0, 0, 0)), head)
        seeds.append(buffer.getvalue())
    return seeds


def _lying_headers():
    """Headers that announce far more than the file holds (no reader may allocate for that)."""
    row = b"the " + b"0.5 " * 3 + b"\n"
    return [b"9999999999 3\n" + row, b"3 999999999\n" + row, b"2 4611686018427387904\n" + row,
            b"9223372036854775807 2\nab" + b"\x00" * 8]


@target("load", seeds=lambda: _all(_head_lines("sample.vec", 6), _head_lines("sample.glove.txt", 5),
                                   _binary_seeds, _compressed_seeds, _lying_headers)())
def load_auto(data):
    """``embload.load`` with format="auto": sniffing, every reader, every compression."""
    _load(data, "input")


@target("load_glove", seeds=_head_lines("sample.glove.txt", 5))
def load_glove(data):
    _load(data, "input.txt", format="glove")


@target("load_word2vec", seeds=_head_lines("sample.vec", 6))
def load_word2vec(data):
    _load(data, "input.vec", format="word2vec")


def _binary_seeds():
    path = DATA / "sample.bin"
    if not path.is_file():
        return []
    blob = path.read_bytes()
    header, _, body = blob.partition(b"\n")
    dim = int(header.split()[1])
    # the header and the first records (word, space, dim float32s, newline)
    records, at = [], 0
    for _ in range(5):
        end = body.index(b" ", at) + 1 + 4 * dim
        records.append(body[at:end + 1])
        at = end + 1
    return [b"5 %d\n" % dim + b"".join(records)]


@target("load_binary", seeds=lambda: _binary_seeds() + _lying_headers())
def load_binary(data):
    _load(data, "input.bin", format="word2vec-binary")


@target("load_gzip", seeds=_all(_head_lines("sample.vec", 6), _binary_seeds))
def load_gzip(data):
    """The streamed readers: the same bytes arrive through a decompressor."""
    _load(gzip.compress(data, mtime=0), "input.gz")


_WORD_INDEX = {"the": 1, "film": 2, "movie": 3, "not": 4, "good": 5, "a": 6, "The": 7, "zzz": 8}


@target("load_aligned", seeds=_all(_head_lines("sample.vec", 6), _head_lines("sample.glove.txt", 5),
                                   _binary_seeds))
def load_aligned(data):
    """``load_aligned``'s own scanner (it reads only the wanted rows)."""
    threads = 1 + len(data) % 2
    aligned = embload.load_aligned(_file(data, "input"), _WORD_INDEX, oov="zeros", threads=threads,
                                   case="fallback" if len(data) % 3 == 0 else "exact", progress=False)
    assert aligned.matrix.shape[0] == len(_WORD_INDEX) + 1


@target("load_aligned_gzip", seeds=_all(_head_lines("sample.vec", 6), _binary_seeds))
def load_aligned_gzip(data):
    embload.load_aligned(_file(gzip.compress(data, mtime=0), "input.gz"), _WORD_INDEX,
                         progress=False)


# --- the cache folder ---------------------------------------------------------------------
_CACHE_WORDS = ["the", "film", "movie", "new\nline", "end"]


def _cache_folder(name):
    """A valid cache written by embload (with offsets.npy: one word holds a newline)."""
    folder = os.path.join(_folder(), name)
    if not os.path.isdir(folder):
        from embload.vectors import Vectors

        matrix = np.arange(len(_CACHE_WORDS) * 3, dtype=np.float32).reshape(-1, 3)
        embload.save(Vectors(_CACHE_WORDS, matrix), folder, format="embload", progress=False)
    return folder


def _meta_seeds():
    folder = _cache_folder("seed.embload")
    return [pathlib.Path(folder, "meta.json").read_bytes()]


@target("cache_meta", seeds=_meta_seeds)
def cache_meta(data):
    """``meta.json`` of an otherwise intact cache."""
    folder = _cache_folder("meta.embload")
    with open(os.path.join(folder, "meta.json"), "wb") as handle:
        handle.write(data)
    _use(embload.load(folder))


_OFFSETS_MARK = b"OFS"


def _words_seeds():
    plain = "\n".join(["the", "film", "movie", "caf\u00e9", "end"]).encode()
    blob = "\n".join(_CACHE_WORDS).encode()
    offsets = np.array([0, 4, 9, 15, 24, 28], dtype="<i8")
    return [plain, _OFFSETS_MARK + bytes([len(offsets)]) + offsets.tobytes() + blob]


@target("cache_words", seeds=_words_seeds)
def cache_words(data):
    """``words.txt`` (and ``offsets.npy``) of a cache whose meta.json matches their sizes.

    Input: ``words.txt`` bytes; or ``b"OFS"``, one byte k, k little-endian int64 offsets,
    then ``words.txt``. The count in meta.json is what the words (or offsets) make, or one
    off from it, picked by the input's length.
    """
    from embload import cache

    offsets = None
    if data.startswith(_OFFSETS_MARK) and len(data) > 3:
        k = data[3]
        raw = data[4:4 + 8 * k]
        offsets = np.frombuffer(raw[:len(raw) // 8 * 8], dtype="<i8")
        blob = data[4 + 8 * k:]
        count = max(len(offsets) - 1, 0)
    else:
        blob = data
        count = blob.count(b"\n") + 1 if blob else 0
    count = max(count + (0, 1, -1)[len(data) % 3], 0)
    folder = os.path.join(_folder(), "words.embload")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    files = {}

    def put(name, content):
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(content)
        files[name] = {"size": len(content), "crc32": 0}

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((count, 2), dtype=np.float32))
    put(cache.MATRIX, buffer.getvalue())
    put(cache.WORDS, blob)
    if offsets is not None:
        buffer = io.BytesIO()
        np.save(buffer, offsets)
        put(cache.OFFSETS, buffer.getvalue())
    meta = {"format": cache.FORMAT_NAME, "version": cache.FORMAT_VERSION, "count": count, "dim": 2,
            "dtype": "float32", "files": files,
            "words": {"file": cache.WORDS, "encoding": "utf-8",
                      "offsets": cache.OFFSETS if offsets is not None else None}}
    put(cache.META, json.dumps(meta).encode())
    limit = None if len(data) % 2 else max(count - 1, 0)
    _use(embload.load(folder, limit=limit))


# --- tokenizer and vocabularies -----------------------------------------------------------
def _tokenizer_seeds():
    path = DATA / "polarity.tsv"
    if not path.is_file():
        return []
    texts = [line.partition("\t")[2] for line in path.read_text("utf-8").splitlines()[:8]]
    tokenizer = embload.Tokenizer(num_words=20, oov_token="<unk>")
    tokenizer.fit_on_texts(texts)
    return [tokenizer.to_json().encode()]


@target("tokenizer_json", seeds=_tokenizer_seeds)
def tokenizer_json(data):
    """``tokenizer_from_json`` on the bytes, then the restored tokenizer used."""
    tokenizer = embload.tokenizer_from_json(data)
    sequences = tokenizer.texts_to_sequences(["the film is not good", "caf\u00e9 <unk>"])
    tokenizer.sequences_to_texts(sequences)


def _texts_seeds():
    path = DATA / "polarity.tsv"
    lines = path.read_bytes().splitlines()[:6] if path.is_file() else []
    return [b"\x00" + b"\n".join(lines), b"\x13\xce\xa3\xcf\x83 \xd0\x96\xd0\xb6. I\xcc\x87 \xed\xa0\x80 a,b\n\n  x"]


@target("tokenizer_texts", seeds=_texts_seeds)
def tokenizer_texts(data):
    """The C tokenizer against embload's Python path (itself tested against Keras) on text
    from the bytes (lone surrogates included): the first byte picks the options, the
    lines are the documents; fit on two threads, then look up on one and on two. The
    least work a thread takes and the look-up pipeline's pieces are made tiny, so that
    fuzz-sized inputs are split between threads and pipelined as a corpus would be."""
    mode, texts = data[:1] or b"\x00", data[1:].decode("utf-8", "surrogateescape").split("\n")
    bits = mode[0]
    options = dict(
        lower=not bits & 1,
        char_level=bool(bits & 2),
        split=(" ", "σ", "ab")[(bits >> 2) % 3],
        num_words=(None, 3)[(bits >> 4) & 1],
        oov_token=(None, "<unk>")[(bits >> 5) & 1],
    )
    c_path, python_path = embload.Tokenizer(**options), embload.Tokenizer(**options)
    python_path._c_options = lambda: None
    python_path.fit_on_texts(texts)
    expected = python_path.texts_to_sequences(texts)
    old_chars, old_piece = _text._set_min_thread_chars(1), text._PIPELINE_DOCS
    text._PIPELINE_DOCS = 2  # texts_to_sequences pipelines from 2 pieces on: 4 lines here
    try:
        c_path.fit_on_texts(texts, threads=2)
        assert c_path.to_json() == python_path.to_json(), "fit: C and Python paths differ"
        for threads in (1, 2):
            got = c_path.texts_to_sequences(texts, threads=threads)
            assert got == expected, f"texts_to_sequences on {threads} thread(s): C and Python differ"
    finally:
        _text._set_min_thread_chars(old_chars)
        text._PIPELINE_DOCS = old_piece


def _vocab_seeds():
    path = DATA / "sample.vec"
    if not path.is_file():
        return []
    words = [line.split(b" ", 1)[0] for line in path.read_bytes().splitlines()[1:12]]
    counted = b"".join(b"%s %d\n" % (word, 100 - i) for i, word in enumerate(words))
    return [b"\n".join(words) + b"\n", counted, json.dumps({"the": 1, "film": 2}).encode()]


@target("word_index_file", seeds=lambda: _vocab_seeds() + _tokenizer_seeds())
def word_index_file(data):
    """``vocabulary.read_vocabulary`` on a file: a Keras tokenizer JSON, a Hugging Face
    tokenizer.json, {word: row}, a sentencepiece .vocab, or lines."""
    from embload.vocabulary import read_vocabulary

    read_vocabulary(_file(data, "word_index"))


@target("vocab_file", seeds=_vocab_seeds)
def vocab_file(data):
    """``vocabulary.read_vocab`` (convert's vocab=) on a file: one word per line, maybe with counts."""
    from embload.vocabulary import read_vocab

    words = read_vocab(_file(data, "vocab.txt"))
    assert all(isinstance(word, str) for word in words)


def _fasttext_seeds():
    """Small fastText models from gensim's test data (where gensim is installed)."""
    try:
        from gensim.test.utils import datapath
    except ImportError:
        return []
    return [pathlib.Path(datapath(name)).read_bytes() for name in ("toy-model.bin", "crime-and-punishment.bin")]


@target("fasttext_bin", seeds=_fasttext_seeds)
def fasttext_bin(data):
    """A fastText / floret model (embload.load_fasttext): the header, args, dictionary,
    pruneidx and matrix sizes are read from the bytes, then vectors of dictionary and
    unknown words are computed."""
    model = embload.load_fasttext(_file(data, "model.bin"), errors="replace")
    model.vectors_for(["a", "hello", "</s>", "\u0442\u0435\u0441\u0442"], threads=1 + len(data) % 2)
    model.to_vectors(limit=50, progress=False)
    model.ngrams("fuzz")


def corpus_files(name):
    """The kept inputs of target ``name`` (regressions: each once crashed or hung)."""
    folder = CORPUS / name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
