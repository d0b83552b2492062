"""Aligned loading (embload/align.py, embload/_align.pyx, embload/src/alignscan.h).

References: the rows of a full ``embload.load`` and of gensim's ``load_word2vec_format``,
and a pure-Python alignment written here (``reference_align``) from the rules in the
docstring of ``embload.align``.
"""

import bz2
import gzip
import json
import lzma
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embload
from conftest import RecordingBar, load_tuned
from embload import _align
from embload import align as align_mod
from embload.align import AlignedEmbedding, align_vectors, load_aligned
from embload.vocabulary import read_word_index
from embload.errors import EmbeddingFormatError

RNG = np.random.default_rng(1234)


def spell(x, k):
    """Varied float spellings, as in real files."""
    forms = (lambda v: f"{v:.5f}", lambda v: repr(float(np.float32(v))), lambda v: f"{v:.3e}",
             lambda v: f"{v:.6g}", lambda v: f"{v:.17g}")
    return forms[k % len(forms)](x)


def make_words(n, seed=0):
    rng = np.random.default_rng(seed)
    base = ["the", "The", "THE", "école", "ÉCOLE", "straße", "Ⅻ", "ʼn", "k", "\u212a"]
    words = []
    seen = set()
    i = 0
    while len(words) < n:
        if i < len(base):
            w = base[i]
        else:
            w = "".join(rng.choice(list("abcdefghijKLMNOPéüж日本"), size=rng.integers(1, 9)))
        i += 1
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def write_text(path, words, matrix, *, header=False, crlf=False, sep=" ", trailing=""):
    """Write a text vectors file; return float(token) of every value written (float64)."""
    end = "\r\n" if crlf else "\n"
    parsed = np.empty(matrix.shape, dtype=np.float64)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if header:
            fh.write(f"{len(words)} {matrix.shape[1]}{end}")
        for i, (w, row) in enumerate(zip(words, matrix)):
            tokens = [spell(v, i + j) for j, v in enumerate(row)]
            parsed[i] = [float(t) for t in tokens]
            fh.write(w + sep + sep.join(tokens) + trailing + end)
    return parsed


def write_binary(path, words, matrix):
    with open(path, "wb") as fh:
        fh.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        for w, row in zip(words, matrix):
            fh.write(w.encode("utf-8") + b" " + np.asarray(row, dtype="<f4").tobytes() + b"\n")


def reference_align(words, matrix, word_index, num_words=None, case="exact"):
    """Pure Python: matrix and found rows from the documented rules (no oov fill)."""
    if num_words is None:
        num_words = max(word_index.values(), default=0) + 1
    first = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    lower_first = {}
    for i, w in enumerate(words):
        lower_first.setdefault(w.lower(), i)
    out = np.zeros((num_words, matrix.shape[1]), dtype=matrix.dtype)
    found = np.zeros(num_words, dtype=bool)
    by_row = {}
    for w, r in word_index.items():
        if r < num_words:
            by_row.setdefault(r, []).append(w)
    for r, ws in by_row.items():
        src = next((first[w] for w in ws if w in first), None)
        if src is None and case == "fallback":
            src = next((lower_first[w.lower()] for w in ws if w.lower() in lower_first), None)
        if src is not None:
            out[r] = matrix[src]
            found[r] = True
    return out, found


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("align")
    words = make_words(300)
    paths = {}
    paths["glove"] = d / "glove.txt"
    # the values as parsed from the text, so that every format holds the same float32s
    matrix = write_text(paths["glove"], words, RNG.normal(0, 0.5, size=(len(words), 7)))
    matrix = matrix.astype(np.float32)
    paths["w2v"] = d / "w2v.txt"
    write_text(paths["w2v"], words, matrix, header=True, crlf=True, trailing=" ")
    paths["bin"] = d / "w2v.bin"
    write_binary(paths["bin"], words, matrix)
    raw = paths["glove"].read_bytes()
    paths["gz"] = d / "glove.txt.gz"
    paths["gz"].write_bytes(gzip.compress(raw))
    paths["bz2"] = d / "glove.bz2"
    paths["bz2"].write_bytes(bz2.compress(raw))
    paths["xz"] = d / "glove.xz"
    paths["xz"].write_bytes(lzma.compress(raw))
    paths["zip"] = d / "glove.zip"
    with zipfile.ZipFile(paths["zip"], "w") as zf:
        zf.writestr("glove.txt", raw)
    paths["bin.gz"] = d / "w2v.bin.gz"
    paths["bin.gz"].write_bytes(gzip.compress(paths["bin"].read_bytes()))
    return words, matrix, paths


def vocab_for(words, n_absent=20, seed=0, step=3):
    rng = np.random.default_rng(seed)
    chosen = list(rng.permutation(words)[: len(words) // step])
    chosen += [f"absent{i}" for i in range(n_absent)]
    order = rng.permutation(len(chosen))
    return {chosen[k]: i + 1 for i, k in enumerate(order)}


# ------------------------------------------------------------------ equality with full loads

@pytest.mark.parametrize("kind", ["glove", "w2v", "bin", "gz", "bz2", "xz", "zip", "bin.gz"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_rows_equal_full_load(small, kind, dtype):
    words, _, paths = small
    wi = vocab_for(words)
    full = embload.load(paths[kind], dtype=dtype)
    ref, ref_found = reference_align(full.words, full.vectors, wi)
    got = load_aligned(paths[kind], wi, dtype=dtype, threads=2)
    assert got.matrix.dtype == np.dtype(dtype)
    assert got.matrix.tobytes() == ref.tobytes()  # bit-identical
    np.testing.assert_array_equal(got.found, ref_found)
    assert sorted(got.missing) == sorted(w for w in wi if w not in full)


@pytest.mark.parametrize("kind", ["w2v", "bin"])
def test_rows_equal_gensim(small, kind):
    from gensim.models import KeyedVectors

    words, _, paths = small
    kv = KeyedVectors.load_word2vec_format(str(paths[kind]), binary=kind == "bin")
    wi = vocab_for(words, seed=3)
    got = load_aligned(paths[kind], wi)
    for w, r in wi.items():
        if w in kv.key_to_index:
            assert got.matrix[r].tobytes() == kv[w].astype(np.float32).tobytes(), w
        else:
            assert not got.found[r] and not got.matrix[r].any()


def test_vectors_align_equals_load_aligned(small):
    words, _, paths = small
    wi = vocab_for(words, seed=5)
    v = embload.load(paths["glove"])
    for case in ("exact", "fallback"):
        a = v.align(wi, case=case)
        b = load_aligned(paths["glove"], wi, case=case)
        assert a.matrix.tobytes() == b.matrix.tobytes()
        np.testing.assert_array_equal(a.found, b.found)
        assert a.missing == b.missing
        assert a.case_matched == b.case_matched


def test_threads_and_buffer_sizes_do_not_change_the_result(small, monkeypatch):
    words, _, paths = small
    wi = vocab_for(words, seed=7)
    expect = {kind: load_aligned(paths[kind], wi, threads=1, case="fallback")
              for kind in ("glove", "gz", "bin")}
    assert expect["glove"].matrix.tobytes() == expect["gz"].matrix.tobytes()
    old = _align._set_min_part_bytes(1)
    try:
        for window in (64, 1000, 1 << 20):
            monkeypatch.setattr(align_mod, "_WINDOW_PER_THREAD", window)
            monkeypatch.setattr(align_mod, "_STREAM_BLOCK", window)
            for threads in (1, 2, 3):
                for kind in ("glove", "gz", "bin"):
                    got = load_aligned(paths[kind], wi, threads=threads, case="fallback")
                    assert got.matrix.tobytes() == expect[kind].matrix.tobytes(), (window, threads, kind)
                    assert got.case_matched == expect[kind].case_matched
    finally:
        _align._set_min_part_bytes(old)


@pytest.mark.parametrize("kind", ["glove", "w2v", "bin", "gz", "bin.gz"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_rows_equal_load_at_blocks_that_cut_records(small, monkeypatch, kind, dtype):
    """Alignment reads with load's stream, block loop and value parser: at block sizes that
    cut lines and records anywhere, plain and compressed, every wanted row is the row
    embload.load gives, bit for bit (load itself read with the same small blocks)."""
    words, _, paths = small
    wi = {w: i + 1 for i, w in enumerate(words[::2])}  # every other word, all present
    full = embload.load(paths[kind], dtype=dtype)
    expect = np.zeros((len(wi) + 1, full.dim), dtype=dtype)
    for w, r in wi.items():
        expect[r] = full.vectors[full.key_to_index[w]]
    old = _align._set_min_part_bytes(1)
    try:
        # (a block is one parallel region: tiny blocks with threads are slow on a busy machine)
        for block, threads in ((17, 1), (300, 1), (300, 2)):
            monkeypatch.setattr(align_mod, "_WINDOW_PER_THREAD", block)
            monkeypatch.setattr(align_mod, "_STREAM_BLOCK", block)
            small_blocks = load_tuned(paths[kind], dtype=dtype, block_size=block, min_piece=1,
                                      threads=threads)
            assert small_blocks.vectors.tobytes() == full.vectors.tobytes()
            got = load_aligned(paths[kind], wi, dtype=dtype, threads=threads)
            assert got.matrix.tobytes() == expect.tobytes(), (block, threads)
            assert got.found[1:].all()
    finally:
        _align._set_min_part_bytes(old)


def test_errors_name_file_and_line_as_load_does(tmp_path):
    """A value that is not a number: the same message from load and load_aligned, with the
    file and the physical line (header and blank lines counted), plain and compressed."""
    data = b"3 3\nthe 1 2 3\n\nof 1 x2 3\nand 4 5 6\n"
    for name, raw in (("v.vec", data), ("v.vec.gz", gzip.compress(data))):
        p = tmp_path / name
        p.write_bytes(raw)
        with pytest.raises(EmbeddingFormatError) as loaded:
            embload.load(p)
        for threads in (1, 2):
            with pytest.raises(EmbeddingFormatError) as aligned:
                load_aligned(p, {"of": 1}, threads=threads)
            assert str(aligned.value) == str(loaded.value) == f"{p}, line 4: value 2 of 3 is not a number: 'x2'"
            assert aligned.value.line == loaded.value.line == 4


def test_truncated_binary_is_found_by_the_readers_check(small, tmp_path):
    """Alignment and load find a record cut short by the same check (the reader's
    at-end-of-data rule), at the same record; data after the last whole record that is
    only newlines is no record."""
    _, _, paths = small
    data = paths["bin"].read_bytes()
    for cut in (2, 10, 30):
        p = tmp_path / f"cut{cut}.bin"
        p.write_bytes(data[: len(data) - cut])
        with pytest.raises(EmbeddingFormatError) as loaded:
            embload.load(p)
        with pytest.raises(EmbeddingFormatError) as aligned:
            load_aligned(p, {"absent": 1})
        assert aligned.value.record == loaded.value.record == 300
        assert "file ends early" in str(aligned.value) and "file ends early" in str(loaded.value)
    p = tmp_path / "newlines.bin"
    p.write_bytes(data + b"\n\n")
    assert load_aligned(p, {"absent": 1}).matrix.shape == (2, 7)




@pytest.mark.parametrize("kind", ["glove", "gz", "bin"])
def test_progress_reaches_the_total(small, monkeypatch, kind):
    """The bar counts the source's bytes and ends full, also when the scan stops early
    because every wanted word was found."""
    words, _, paths = small
    bars = []

    def fake(progress, *, total=None, desc=None, unit="B"):
        bars.append(RecordingBar(total))
        return bars[-1]

    monkeypatch.setattr(align_mod, "make_progress", fake)
    monkeypatch.setattr(align_mod, "_WINDOW_PER_THREAD", 200)  # several blocks
    monkeypatch.setattr(align_mod, "_STREAM_BLOCK", 200)
    for wi in ({"absent": 1}, {words[0]: 1}):  # the whole file / an early stop
        bars.clear()
        load_aligned(paths[kind], wi, progress=True, threads=1)
        assert bars[0].total == paths[kind].stat().st_size
        assert bars[0].done == bars[0].total


# ------------------------------------------------------------------ word_index rules

def test_row_zero_and_gaps_stay_zero(small):
    words, _, paths = small
    wi = {words[0]: 2, words[1]: 5}
    e = load_aligned(paths["glove"], wi, oov="uniform", seed=0)
    assert e.matrix.shape == (6, 7)
    assert not e.matrix[[0, 1, 3, 4]].any()
    assert e.found.tolist() == [False, False, True, False, False, True]
    assert e.coverage == 1.0


def test_index_zero_is_a_token_row(small):
    # issue 10: 0-based vocabularies (PyTorch, Hugging Face) are aligned, not refused;
    # a token on id 0 that does not name padding keeps its row (tests/test_align_vocab.py)
    words, matrix, paths = small
    e = load_aligned(paths["glove"], {"the": 1, "pad": 0})
    assert e.padding_idx is None
    assert e.matrix[1].tobytes() == matrix[words.index("the")].tobytes()


@pytest.mark.parametrize("bad, exc, text", [
    ({"a": -3}, ValueError, "word_index['a'] = -3: rows must be >= 0"),
    ({"a": 1.0}, TypeError, "word_index['a'] = 1.0: rows must be ints"),
    ({"a": True}, TypeError, "word_index['a'] = True: rows must be ints"),
    ({b"a": 1}, TypeError, "word_index keys must be str, got bytes b'a'"),
])
def test_bad_word_index(small, bad, exc, text):
    _, _, paths = small
    with pytest.raises(exc) as info:
        load_aligned(paths["glove"], bad)
    assert str(info.value) == text


def test_bad_options(small):
    _, _, paths = small
    with pytest.raises(ValueError, match="oov must be one of"):
        load_aligned(paths["glove"], {"the": 1}, oov="random")
    with pytest.raises(ValueError, match="case must be one of"):
        load_aligned(paths["glove"], {"the": 1}, case="lower")
    with pytest.raises(ValueError, match="dtype must be one of"):
        load_aligned(paths["glove"], {"the": 1}, dtype="int32")
    with pytest.raises(ValueError, match="num_words must be at least 1"):
        load_aligned(paths["glove"], {"the": 1}, num_words=0)
    with pytest.raises(TypeError, match="word_index must be a dict"):
        load_aligned(paths["glove"], 3)   # a list of tokens is a vocabulary (issue 10)


def test_num_words_cut_off(small):
    words, matrix, paths = small
    wi = {w: i + 1 for i, w in enumerate(words[:50])}
    e = load_aligned(paths["glove"], wi, num_words=11)
    assert e.matrix.shape == (11, 7)
    assert e.matrix[1:].tobytes() == matrix[:10].tobytes()
    assert e.missing == [] and e.coverage == 1.0
    # more rows than words: the extra rows are not vocabulary rows
    e = load_aligned(paths["glove"], {words[0]: 1}, num_words=4, oov="uniform", seed=1)
    assert e.matrix.shape == (4, 7) and not e.matrix[2:].any()


def test_words_not_in_file_and_duplicated_indices(small):
    words, matrix, paths = small
    # "nope" and words[3] share row 1: the first found (word_index order) wins
    wi = {"nope": 1, words[3]: 1, words[4]: 1, "zzz": 2, words[5]: 3}
    e = load_aligned(paths["glove"], wi)
    assert e.matrix[1].tobytes() == matrix[3].tobytes()
    assert e.found.tolist() == [False, True, False, True]
    assert e.missing == ["nope", "zzz"]
    assert e.coverage == pytest.approx(2 / 3)
    v = embload.load(paths["glove"])
    assert v.align(wi).matrix.tobytes() == e.matrix.tobytes()


def test_exact_match_beats_case_match_in_a_shared_row(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("APPLE 1 1\nfoo 2 2\napple 3 3\n")
    e = load_aligned(p, {"Apple": 1, "apple": 1}, case="fallback")
    assert e.matrix[1].tolist() == [3, 3]  # 'apple' as written, though 'Apple' comes first
    assert e.missing == []
    assert e.case_matched == {"Apple": "APPLE"}


def test_keras_json_and_vocab_file_and_tokenizer_object(small, tmp_path):
    np.unicode_ = np.str_  # keras_preprocessing on NumPy 2
    from keras_preprocessing.text import Tokenizer

    words, matrix, paths = small
    simple = [w for w in words if " " not in w and w.lower() == w][:40]
    tok = Tokenizer(filters="", lower=False)
    tok.fit_on_texts([" ".join(simple[: i + 1]) for i in range(len(simple))])
    js = tmp_path / "tok.json"
    js.write_text(tok.to_json())
    expect = load_aligned(paths["glove"], dict(tok.word_index))
    assert expect.coverage == 1.0
    for form in (js, str(js), tok):
        got = load_aligned(paths["glove"], form)
        assert got.matrix.tobytes() == expect.matrix.tobytes()
        assert got.word_index == dict(tok.word_index)
    assert read_word_index(js) == dict(tok.word_index)
    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes(("\r\n".join(simple[:5]) + "\r\n").encode())
    got = load_aligned(paths["glove"], vocab)
    assert got.word_index == {w: i + 1 for i, w in enumerate(simple[:5])}
    assert got.matrix[1:].tobytes() == np.stack([matrix[words.index(w)] for w in simple[:5]]).tobytes()
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"the": 2}))
    assert read_word_index(plain) == {"the": 2}


def test_bad_vocab_files(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a\n\nb\n")
    with pytest.raises(ValueError, match=r"v.txt, line 2: empty line in a vocabulary file"):
        read_word_index(p)
    p.write_text("a\nb\na\n")
    with pytest.raises(ValueError, match=r"v.txt, line 3: word 'a' is already on line 1"):
        read_word_index(p)
    p.write_text('{"config": {"num_words": null}}')
    with pytest.raises(ValueError, match="no 'word_index'"):
        read_word_index(p)
    p.write_bytes(b"a\nb\ncaf\xe9 au lait\nd\n")  # Latin-1, not UTF-8
    with pytest.raises(ValueError, match=r"v.txt, line 3: vocabulary file is not valid UTF-8 "
                                         r"\(invalid continuation byte at byte 7\): 'caf\\\\xe9 au lait'"):
        read_word_index(p)
    p.write_bytes(b"\xef\xbb\xbfa\n\xff")  # after a BOM
    with pytest.raises(ValueError, match=r"v.txt, line 2: .*not valid UTF-8 \(invalid start byte at byte 5\): '\\\\xff'"):
        read_word_index(p)


# ------------------------------------------------------------------ oov modes

def test_oov_modes(small):
    words, matrix, paths = small
    wi = {w: i + 1 for i, w in enumerate(words[:30])}
    wi.update({f"missing{i}": 31 + i for i in range(200)})
    found_rows = matrix[:30].astype(np.float64)
    zeros = load_aligned(paths["glove"], wi)
    assert not zeros.matrix[31:].any()

    u1 = load_aligned(paths["glove"], wi, oov="uniform", seed=42)
    u2 = load_aligned(paths["glove"], wi, oov="uniform", seed=42)
    u3 = load_aligned(paths["glove"], wi, oov="uniform", seed=43)
    assert u1.matrix.tobytes() == u2.matrix.tobytes() != u3.matrix.tobytes()
    assert np.all(np.abs(u1.matrix[31:]) <= 0.05) and u1.matrix[31:].std() > 0.02
    assert u1.matrix[:31].tobytes() == zeros.matrix[:31].tobytes()

    n = load_aligned(paths["glove"], wi, oov="normal", seed=0)
    drawn = n.matrix[31:].astype(np.float64)
    assert abs(drawn.mean() - found_rows.mean()) < 0.03
    assert abs(drawn.std() - found_rows.std()) < 0.03
    assert n.matrix[:31].tobytes() == zeros.matrix[:31].tobytes()

    m = load_aligned(paths["glove"], wi, oov="mean")
    np.testing.assert_allclose(m.matrix[31:], np.broadcast_to(found_rows.mean(0), (200, 7)), rtol=1e-6)

    seen = []

    def init(word, dim, rng):
        seen.append(word)
        return np.full(dim, len(word))

    c = load_aligned(paths["glove"], wi, oov=init)
    assert seen == [f"missing{i}" for i in range(200)]
    assert c.matrix[31 + 10].tolist() == [len("missing10")] * 7
    assert c.oov == "callable"
    with pytest.raises(ValueError, match=r"returned shape \(3,\); expected \(7,\)"):
        load_aligned(paths["glove"], wi, oov=lambda w, d, r: np.zeros(3))
    assert not any(x.matrix[0].any() for x in (u1, n, m, c))


def test_oov_with_nothing_found_warns(small):
    _, _, paths = small
    with pytest.warns(RuntimeWarning, match="no word was found"):
        e = load_aligned(paths["glove"], {"nothere": 1}, oov="normal")
    assert not e.matrix.any() and e.coverage == 0.0


# ------------------------------------------------------------------ case modes

def test_case_modes(tmp_path):
    p = tmp_path / "cased.txt"
    p.write_text("Paris 1 0\nÉCOLE 2 0\nécole 3 0\nBerlin 4 0\nberlin 5 0\nBERLIN 6 0\n\u212a 7 0\n"
                 "ΣΟΦΊΑ 8 0\n", encoding="utf-8")
    wi = {"paris": 1, "école": 2, "berlin": 3, "École": 4, "BERLIN": 5, "k": 6, "σοφία": 7, "xx": 8}
    exact = load_aligned(p, wi)
    assert exact.found.tolist() == [False, False, True, True, False, True, False, False, False]
    fb = load_aligned(p, wi, case="fallback", threads=2)
    col = fb.matrix[:, 0].tolist()
    # paris <- Paris; école as written; berlin as written (later than Berlin);
    # École <- first equal ignoring case (ÉCOLE); BERLIN as written; k <- Kelvin sign (K)
    assert col == [0, 1, 3, 5, 2, 6, 7, 8, 0]
    assert fb.missing == ["xx"]
    assert fb.case_matched == {"paris": "Paris", "École": "ÉCOLE", "k": "\u212a", "σοφία": "ΣΟΦΊΑ"}
    v = embload.load(p)
    assert v.align(wi, case="fallback").matrix.tobytes() == fb.matrix.tobytes()


def test_early_stop_but_not_before_exact_matches(tmp_path, monkeypatch):
    p = tmp_path / "v.txt"
    p.write_text("the 1 1\nof 2 2\nThe 3 3\n" + "of 1\n")
    monkeypatch.setattr(align_mod, "_WINDOW_PER_THREAD", 8)  # the scan stops between windows
    e = load_aligned(p, {"the": 1, "of": 2}, threads=1)  # stops before the bad line
    assert e.matrix[1:].tolist() == [[1, 1], [2, 2]]
    e = load_aligned(p, {"the": 1, "of": 2, "The": 3}, case="fallback", threads=1)
    assert e.matrix[3].tolist() == [3, 3] and e.case_matched == {}
    with pytest.raises(EmbeddingFormatError):  # without early stop the junk is reached
        load_aligned(p, {"the": 1, "Of": 2}, case="fallback")


# ------------------------------------------------------------------ formats, odd lines, errors

def test_words_with_spaces(tmp_path):
    p = tmp_path / "840b.txt"
    p.write_text("at 1 1 1\nat name@domain.com 2 2 2\n. . . 3 3 3\nnew york 4 4 4\nnew 5 5 5\n"
                 "\t tabbed\t 6 6 6\n")
    v = embload.load(p)
    assert v.words == ["at", "at name@domain.com", ". . .", "new york", "new", "\t tabbed"]
    wi = {"at": 1, "new": 2}  # fast path: the first token "at" of line 2 is not its word
    e = load_aligned(p, wi)
    assert e.matrix[1:, 0].tolist() == [1, 5]
    wi = {"at name@domain.com": 1, ". . .": 2, "new york": 3, "new": 4, "\t tabbed": 5, "at": 6}
    e = load_aligned(p, wi)
    assert e.matrix[1:, 0].tolist() == [2, 3, 4, 5, 6, 1]
    assert v.align(wi).matrix.tobytes() == e.matrix.tobytes()


def test_duplicate_file_words_first_wins_and_odd_lines(tmp_path):
    p = tmp_path / "v.txt"
    p.write_bytes(b"\xef\xbb\xbfthe 1 1\r\n\n   \nthe 9 9\nof\t2  2 \r\nnan -inf 1e3\n")
    e = load_aligned(p, {"the": 1, "of": 2, "nan": 3})
    m = e.matrix.tolist()
    assert m[1:3] == [[1, 1], [2, 2]] and m[3][0] == -np.inf and m[3][1] == 1000


def test_malformed_wanted_line_is_an_error(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 1 2 3\nof 1 x2 3\nand 1 2\nbroken x y z\n")
    assert load_aligned(p, {"the": 1}).found[1]  # unwanted bad lines are not parsed
    with pytest.raises(EmbeddingFormatError) as info:
        load_aligned(p, {"of": 1})
    assert str(info.value) == f"{p}, line 2: value 2 of 3 is not a number: 'x2'"
    with pytest.raises(EmbeddingFormatError) as info:
        load_aligned(p, {"and": 1})
    assert str(info.value) == f"{p}, line 3: expected 3 values after the word, found 2: 'and 1 2'"


def test_error_line_numbers_count_the_header(tmp_path):
    p = tmp_path / "v.vec"
    p.write_text("3 2\nthe 1 2\nof 1 2 3\nand 1\n")
    with pytest.raises(EmbeddingFormatError) as info:
        load_aligned(p, {"and": 1}, threads=1)
    assert str(info.value) == f"{p}, line 4: expected 2 values after the word, found 1: 'and 1'"
    p.write_bytes(gzip.compress(p.read_bytes()))
    with pytest.raises(EmbeddingFormatError, match="line 4: expected 2 values"):
        load_aligned(p, {"and": 1})


def test_empty_word_index(small):
    _, _, paths = small
    e = load_aligned(paths["glove"], {})
    assert e.matrix.shape == (1, 7) and not e.matrix.any() and e.coverage == 0.0
    # an empty token list is the same empty vocabulary (it raised IndexError)
    e = load_aligned(paths["glove"], [])
    assert e.matrix.shape == (1, 7) and not e.matrix.any() and e.coverage == 0.0
    m = align_vectors(embload.load(paths["glove"]), [])
    assert m.matrix.shape == (1, 7) and not m.matrix.any()


def test_empty_file_and_zero_dim(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    for wi in ({}, {"a": 1}):
        with pytest.raises(EmbeddingFormatError, match="no vectors"):
            load_aligned(empty, wi)
    zero = tmp_path / "zero.vec"
    zero.write_text("2 0\na\nb\n", encoding="utf-8")
    with pytest.raises(ValueError, match="dim"):
        load_aligned(zero, {"a": 1})


def test_truncated_binary(small, tmp_path):
    _, _, paths = small
    data = paths["bin"].read_bytes()
    p = tmp_path / "cut.bin"
    p.write_bytes(data[: len(data) - 10])
    with pytest.raises(EmbeddingFormatError, match=r"record 300: file ends early, inside record 300 of 300"):
        load_aligned(p, {"absent": 1})


def test_header_count_checked_when_the_scan_reads_to_the_end(small, tmp_path):
    """A file holding fewer (or more) vectors than its header announces warns, as load
    does, when the scan reads to the end (some word is missing: perhaps in the lost
    lines); a scan that found every word stops early and cannot tell."""
    words, matrix, paths = small
    text = paths["w2v"].read_bytes()
    lines = text.split(b"\n")
    cut_text = tmp_path / "cut.vec"
    cut_text.write_bytes(b"\n".join(lines[:101]) + b"\n")  # header + 100 of 300 lines
    cut_bin = tmp_path / "cut.bin"  # 100 whole records of 300
    write_binary(cut_bin, words[:100], matrix[:100])
    data = cut_bin.read_bytes()
    cut_bin.write_bytes(data.replace(b"100 7\n", b"300 7\n", 1))
    for path, what in ((cut_text, "lines"), (cut_bin, "records")):
        with pytest.warns(UserWarning, match=rf"announces 300 vectors but the file holds 100; .* last {what}"):
            load_aligned(path, {words[0]: 1, "absent": 2}, progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load_aligned(path, {words[0]: 1}, progress=False)  # found at once: no scan to the end
    blanks = tmp_path / "blanks.vec"  # blank lines are no records (load skips them too)
    blanks.write_bytes(b"\n\n".join(lines[:301]) + b"\n\n")
    more = tmp_path / "more.vec"
    more.write_bytes(b"299" + text[3:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_aligned(blanks, {words[0]: 1, "absent": 2}, progress=False)
        load_aligned(paths["w2v"], {words[0]: 1, "absent": 2}, progress=False)
    with pytest.warns(UserWarning, match="announces 299 vectors but the file holds 300; all were read"):
        load_aligned(more, {words[0]: 1, "absent": 2}, progress=False)


def test_header_and_nothing_after_is_refused_like_load(tmp_path):
    path = tmp_path / "cut.vec"
    for data in (b"5 3\n", b"5 3\n\n\n"):
        path.write_bytes(data)
        with pytest.raises(EmbeddingFormatError) as loaded:
            embload.load(path, progress=False)
        with pytest.raises(EmbeddingFormatError) as aligned:
            load_aligned(path, {"the": 1}, progress=False)
        assert str(aligned.value) == str(loaded.value) == f"{path}: no vectors after the header (it announces 5)"
    path.write_bytes(b"0 3\n")   # an honest empty file: no error, nothing found
    assert not load_aligned(path, {"the": 1}, progress=False).found.any()


def test_duplicated_wanted_words_warn_and_keep_the_first_like_load(small, tmp_path):
    from embload.errors import DuplicateWordsWarning

    words, matrix, _ = small
    dup_words = words[:50] + [words[3], words[7]] + words[50:60]
    dup_matrix = np.concatenate([matrix[:50], matrix[[10, 20]] + 1, matrix[50:60]])
    text = tmp_path / "dup.txt"
    write_text(text, dup_words, dup_matrix)
    binary = tmp_path / "dup.bin"
    write_binary(binary, dup_words, dup_matrix)
    wanted = {w: i for i, w in enumerate(words[:60], 1)}
    for path, unit, again in ((text, "line", 51), (binary, "record", 51)):
        with pytest.warns(DuplicateWordsWarning) as loaded:
            v = embload.load(path, progress=False)
        with pytest.warns(DuplicateWordsWarning,
                          match=rf"2 wanted words appear more than once; the first vector of each is "
                                rf"used \(e.g. {words[3]!r}: {unit} {again} repeats {unit} 4\)"):
            a = load_aligned(path, wanted, progress=False)
        assert "2 duplicate words dropped" in str(loaded[0].message)
        np.testing.assert_array_equal(a.matrix[1:], np.stack([v[w] for w in words[:60]]))
    with warnings.catch_warnings():  # the duplicates of unwanted words are not its business
        warnings.simplefilter("error")
        load_aligned(text, {w: i for i, w in enumerate(words[50:60], 1)}, progress=False)


def test_cache_folder(small, tmp_path):
    from embload.cache import write_cache

    words, _, paths = small
    v = embload.load(paths["glove"])
    folder = tmp_path / "glove.embload"
    write_cache(v, folder)
    wi = vocab_for(words, seed=11)
    for case in ("exact", "fallback"):
        a = load_aligned(folder, wi, case=case)
        b = load_aligned(paths["glove"], wi, case=case)
        assert a.matrix.tobytes() == b.matrix.tobytes()
        assert a.missing == b.missing
    with pytest.raises(ValueError, match="not an embload cache"):
        load_aligned(tmp_path, wi)


# ------------------------------------------------------------------ result object

def test_aligned_embedding_api(small):
    words, _, paths = small
    wi = {words[0]: 1, words[1]: 2, "zz": 3}
    e = load_aligned(paths["glove"], wi)
    assert isinstance(e, AlignedEmbedding)
    assert (e.dim, e.num_words, e.dtype) == (7, 4, np.float32)
    assert e.coverage == pytest.approx(2 / 3)
    assert repr(e).startswith("<AlignedEmbedding 4 x 7 float32: 2 of 3 rows found (66.7%), oov='zeros'")
    assert "missing (1, oov='zeros'): 'zz'" in e.summary()
    assert e.token_coverage({words[0]: 6, "zz": 2, "other": 2}) == pytest.approx(0.6)

    class Tok:
        word_counts = {words[1]: 1, "zz": 1}

    assert e.token_coverage(Tok()) == 0.5
    assert np.asarray(e) is e.matrix


def test_word_table_lookup():
    keys = [w.encode() for w in make_words(500)]
    t = _align.WordTable(keys, np.arange(len(keys)))
    for i, k in enumerate(keys):
        assert t.get(k) == i
    assert t.get(b"not there") == -1
    low = _align.WordTable([b"hello", b"\xc3\xa9cole"], [0, 1])
    assert low.get_lower(b"HeLLo") == 0 and low.get_lower(b"\xc3\xa9COLE") == 1
    with pytest.raises(ValueError, match="duplicate key"):
        _align.WordTable([b"a", b"a"], [0, 1])


# ------------------------------------------------------------------ hypothesis

word_st = st.text(alphabet=st.sampled_from(list("aAbBzZ éÉ.\tK\u212aß")), min_size=1, max_size=6).filter(
    lambda w: w.strip(" \t") == w and w.strip())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file_words=st.lists(word_st, min_size=1, max_size=25),
       wanted=st.lists(word_st, max_size=15),
       rows=st.lists(st.integers(1, 12), min_size=15, max_size=15),
       dim=st.integers(1, 4), case=st.sampled_from(["exact", "fallback"]),
       threads=st.integers(1, 3), num_words=st.one_of(st.none(), st.integers(1, 14)),
       binary=st.booleans())
def test_random_vocabularies_and_files(tmp_path, file_words, wanted, rows, dim, case, threads,
                                       num_words, binary):
    rng = np.random.default_rng(len(file_words) * 31 + dim)
    path = tmp_path / f"h{dim}{case}{threads}{binary}.vec"
    if binary:
        file_words = [w for w in file_words if " " not in w and "\t" not in w] or ["a"]
        values = rng.normal(size=(len(file_words), dim)).astype(np.float32)
        values[:, 0] = 1.0  # bytes 00 00 80 3f: never mistaken for text by format detection
        write_binary(path, file_words, values)
    else:
        values = write_text(path, file_words, rng.normal(size=(len(file_words), dim)), header=True)
    wi = {w: r for w, r in zip(wanted, rows)}
    ref, ref_found = reference_align(file_words, values.astype(np.float32), wi, num_words, case)
    old = _align._set_min_part_bytes(1)
    try:
        got = load_aligned(path, wi, num_words=num_words, case=case, threads=threads)
    finally:
        _align._set_min_part_bytes(old)
    assert got.matrix.tobytes() == ref.tobytes()
    np.testing.assert_array_equal(got.found, ref_found)
    assert not got.matrix[0].any()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), header=st.sampled_from([b"", b"3 2\n", b"2 2\n"]),
       wanted=st.lists(st.sampled_from(["a", "A", "b", "\u00e9", "a b", "", "\x00"]), max_size=4),
       case=st.sampled_from(["exact", "fallback"]), threads=st.integers(1, 2))
def test_garbage_never_crashes(tmp_path, data, header, wanted, case, threads):
    path = tmp_path / "garbage.bin"
    path.write_bytes(header + data)
    wi = {w: i + 1 for i, w in enumerate(wanted)}
    old = _align._set_min_part_bytes(1)
    try:
        e = load_aligned(path, wi, case=case, threads=threads)
    except (EmbeddingFormatError, ValueError):
        return
    finally:
        _align._set_min_part_bytes(old)
    assert e.matrix.shape[0] == max(wi.values(), default=0) + 1
    assert not e.matrix[0].any()


def test_odd_wanted_words(tmp_path):
    p = tmp_path / "v.txt"
    p.write_bytes(b"\xc3\xa9 1 1\n 2 2\nb\xff 3 3\n")
    wi = {"": 1, "\u00e9": 2, "\udcc3\udca9": 3, "b\udcff": 4}
    for case in ("exact", "fallback"):
        e = load_aligned(p, wi, case=case)
        assert e.matrix[:, 0].tolist() == [0, 0, 1, 0, 3]
        assert e.missing == ["", "\udcc3\udca9"]


def test_long_words(tmp_path):
    long_word = "x" * 100_000 + "é"
    p = tmp_path / "long.txt"
    p.write_text(f"a 1 2\n{long_word} 3 4\n{long_word.upper()} 5 6\n", encoding="utf-8")
    e = load_aligned(p, {long_word: 1, long_word[:-1] + "É": 2}, case="fallback")
    assert e.matrix[1:].tolist() == [[3, 4], [3, 4]]
    b = tmp_path / "long.bin"
    write_binary(b, ["a", long_word], np.array([[1, 2], [3, 4]], dtype=np.float32))
    assert load_aligned(b, {long_word: 1}).matrix[1].tolist() == [3, 4]


def test_embload_tokenizer_end_to_end(small):
    words, matrix, paths = small
    simple = [w for w in words if w.isascii() and w.islower() and w.isalpha()][:30]
    tok = embload.Tokenizer(oov_token="<unk>")
    tok.fit_on_texts([" ".join(simple[: i + 1]) for i in range(len(simple))] + ["zzzz"])
    num_words = min(20, len(tok.word_index) + 1)
    e = load_aligned(paths["glove"], tok, num_words=num_words)
    assert e.matrix.shape == (20, 7)
    for word, row in tok.word_index.items():
        if row < 20 and word in simple:
            assert e.matrix[row].tobytes() == matrix[words.index(word)].tobytes()
    assert e.missing == ["<unk>"]  # row 1, the OOV token
    covered = sum(c for w, c in tok.word_counts.items() if w in simple and tok.word_index[w] < 20)
    assert e.token_coverage(tok) == pytest.approx(covered / sum(tok.word_counts.values()))


# words with case pairs, non-ASCII case (É/é, Kelvin sign), "\n", blanks, lone surrogates
odd_word = st.text(alphabet=st.sampled_from(list("aAbBéÉ\u212ak \n") + ["\udcff", "\ud800"]),
                   max_size=4)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(odd_word, unique=True, max_size=12),
       wanted=st.lists(odd_word, unique=True, max_size=8))
def test_vectors_align_fallback_with_odd_words_matches_reference(words, wanted):
    # Vectors.align(case="fallback") reads the words' UTF-8 arena, not a list of str
    matrix = np.arange(len(words) * 2, dtype=np.float32).reshape(-1, 2) + 1
    v = embload.Vectors(words, matrix)
    wi = {w: i + 1 for i, w in enumerate(wanted)}
    got = v.align(wi, case="fallback")
    expect, found = reference_align(words, matrix, wi, case="fallback")
    assert got.matrix.tobytes() == expect.tobytes()
    assert got.found.tolist() == found.tolist()
    lower_first = {}
    for i, w in enumerate(words):
        lower_first.setdefault(w.lower(), i)
    assert got.case_matched == {w: words[lower_first[w.lower()]] for w in wanted
                                if w not in words and w.lower() in lower_first}


def test_file_not_utf8_warns_when_a_token_is_not_ascii(tmp_path):
    # a Latin-1 file: "caf\xe9" never matches the token's UTF-8 bytes; embload.load refuses
    # the file, load_aligned reads only wanted lines, so it says so from the sniffed head
    path = tmp_path / "latin1.txt"
    path.write_bytes("the 0.1 0.2\ncaf\xe9 0.3 0.4\n".encode("latin-1"))
    with pytest.raises(EmbeddingFormatError, match="not valid UTF-8"):
        embload.load(path)
    with pytest.warns(UserWarning, match=r"latin1.txt, line 2: the file is not UTF-8 .*b'caf\\xe9 0.3 0.4'"):
        e = load_aligned(path, {"the": 1, "caf\xe9": 2})
    assert e.found.tolist() == [False, True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = load_aligned(path, {"the": 1})          # ASCII tokens: same bytes in Latin-1
        assert e.found.tolist() == [False, True]
        header = tmp_path / "latin1.vec"            # the header counts as line 1
        header.write_bytes(b"2 2\n" + path.read_bytes())
        utf8 = tmp_path / "utf8.txt"
        utf8.write_bytes("the 0.1 0.2\ncaf\xe9 0.3 0.4\n".encode("utf-8"))
        assert load_aligned(utf8, {"the": 1, "caf\xe9": 2}).found[1:].all()   # row 0: padding
    with pytest.warns(UserWarning, match=r"latin1.vec, line 3: the file is not UTF-8"):
        load_aligned(header, {"caf\xe9": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # raw bytes asked for, surrogate-escaped
        assert load_aligned(path, {"caf\udce9": 1}).found[1]


def test_progress_and_member_follow_the_rules_of_load(small):
    # progress="no" showed a bar (a truthy str); member=5 was blamed on the file
    _, _, paths = small
    for kwargs, error, message in ((dict(progress="no"), TypeError, "progress must be True, False or None"),
                                   (dict(member=5), TypeError, "member must be a str")):
        for reader in (embload.load, lambda p, **kw: load_aligned(p, {"the": 1}, **kw)):
            with pytest.raises(error, match=message):
                reader(paths["glove"], **kwargs)


def test_absurd_ids_name_their_token(small):
    # a damaged id used to end in numpy's "Unable to allocate 90.9 TiB" or an OverflowError
    _, _, paths = small
    with pytest.raises(MemoryError, match=r"largest id, 99999999999999999 \(token 'cat'\)"):
        load_aligned(paths["glove"], {"the": 1, "cat": 10**17 - 1})
    with pytest.raises(MemoryError, match="num_words=100000000000000000 asks for"):
        load_aligned(paths["glove"], {"the": 1}, num_words=10**17)
    with pytest.raises(ValueError, match=r"token 'cat' has id 9223372036854775808, past the rows"):
        load_aligned(paths["glove"], {"the": 1, "cat": 2**63})
    # a huge id past num_words is only left out
    assert load_aligned(paths["glove"], {"the": 1, "cat": 10**17}, num_words=2).found.tolist() == [False, True]
