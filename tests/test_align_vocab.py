"""Alignment to every vocabulary numbering (issue 10): PyTorch / torchtext, Hugging Face,
sentencepiece and Keras.

The reference is independent of the scanner: ``embload.load`` of the whole file and a
pure-Python dict lookup per token (tokens sharing an id: the first in vocabulary order
whose word is in the file wins the row).
"""
import json
import sys
import types
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embload
from embload import Embedding, load_aligned
from embload.cli import main
from embload.errors import EmbeddingFormatError, LowCoverageWarning
from embload.vocabulary import read_vocabulary

RNG = np.random.default_rng(10)
FILE_WORDS = (["the", "cat", "sat", "on", "mat", "The", "dog", "ran", "</s>", "<unk>", "naïve",
               "東京", "a.b", "x-y", "42", "hello", "world", "foo", "bar", "baz"]
              + [f"w{i}" for i in range(20)])
ABSENT = ["zebra", "qux", "Cat", "NAÏVE", "DOG", "nope", "[CLS]", "<s>", "##ing", "▁the", "▁Dog"]
SPECIAL = ["<pad>", "[PAD]", "<unk>", "[UNK]", "<s>", "</s>", "[CLS]"]


@pytest.fixture(scope="module")
def vec(tmp_path_factory):
    path = tmp_path_factory.mktemp("vocab") / "v.txt"
    values = RNG.normal(0, 1, size=(len(FILE_WORDS), 6))
    with open(path, "w", encoding="utf-8") as fh:
        for word, row in zip(FILE_WORDS, values):
            fh.write(word + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
    return path, embload.load(path)


def reference(vectors, ids, n, padding, lookup=None, case="exact"):
    """(expected matrix, expected found) from the documented rule, in pure Python: a row
    takes the vector of its first token (vocabulary order) whose word is in the file as
    written, failing that (case="fallback") of the first whose word equals a file word
    ignoring case (the first such line)."""
    table = {w: vectors.vectors[i] for w, i in vectors.key_to_index.items()}
    lower = {}
    for w in vectors.words:
        lower.setdefault(w.lower(), table[w])
    by_row = {}
    for token, row in ids.items():
        if row < n and row != padding:
            word = token if lookup is None else lookup(token)
            if word is not None:
                by_row.setdefault(row, []).append(word)
    out = np.zeros((n, vectors.dim), dtype=vectors.vectors.dtype)
    found = np.zeros(n, dtype=bool)
    for row, words in by_row.items():
        vector = next((table[w] for w in words if w in table), None)
        if vector is None and case == "fallback":
            vector = next((lower[w.lower()] for w in words if w.lower() in lower), None)
        if vector is not None:
            out[row] = vector
            found[row] = True
    return out, found


def check(aligned, vectors, ids, n, padding, lookup=None, case="exact"):
    expect, found = reference(vectors, ids, n, padding, lookup, case)
    assert aligned.matrix.shape == (n, vectors.dim)
    assert aligned.padding_idx == padding
    assert aligned.found.tolist() == found.tolist()
    # every row a token's vector is wanted in holds it bit for bit; every other row is
    # zeros (oov="zeros"): no row holds a vector that is not its own
    assert aligned.matrix.tobytes() == expect.tobytes()


# --------------------------------------------------------------------------- properties
TOKENS = st.sampled_from(FILE_WORDS + ABSENT + SPECIAL)


@st.composite
def vocabularies(draw):
    """(vocabulary in some convention, its {token: id}, rows, padding row)."""
    tokens = draw(st.lists(TOKENS, min_size=1, max_size=25, unique=True))
    style = draw(st.sampled_from(["zero", "one", "sparse", "shared", "list"]))
    if style == "zero":
        ids = {t: i for i, t in enumerate(tokens)}
    elif style == "one":
        ids = {t: i + 1 for i, t in enumerate(tokens)}
    elif style == "sparse":
        rows = draw(st.lists(st.integers(0, 60), min_size=len(tokens), max_size=len(tokens),
                             unique=True))
        ids = dict(zip(tokens, rows))
    elif style == "shared":   # several tokens on one id
        rows = draw(st.lists(st.integers(0, 8), min_size=len(tokens), max_size=len(tokens)))
        ids = dict(zip(tokens, rows))
    else:
        ids = {t: i for i, t in enumerate(tokens)}
    vocab = tokens if style == "list" else ids
    top = max(ids.values()) + 1
    padding = draw(st.sampled_from(["auto", None, "int"]))
    if padding == "int":
        padding = draw(st.integers(0, top - 1))
    return vocab, ids, top, padding


def expected_padding(ids, padding):
    if padding != "auto":
        return padding
    if 0 not in ids.values():
        return 0
    return next((r for t, r in ids.items() if t in ("<pad>", "<PAD>", "[PAD]", "[pad]")), None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=vocabularies(), lookup=st.sampled_from([None, "lower", "strip"]),
       in_memory=st.booleans(), fallback=st.booleans())
def test_every_convention_aligns_every_row(vec, case, lookup, in_memory, fallback):
    path, vectors = vec
    vocab, ids, top, padding = case
    fn = {None: None, "lower": str.lower,
          "strip": lambda t: None if t.startswith("##") else t.removeprefix("▁")}[lookup]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowCoverageWarning)
        mode = "fallback" if fallback else "exact"
        if in_memory:
            aligned = vectors.align(vocab, padding_idx=padding, lookup=fn, case=mode)
        else:
            aligned = load_aligned(path, vocab, padding_idx=padding, lookup=fn, case=mode,
                                   threads=2)
    check(aligned, vectors, ids, top, expected_padding(ids, padding), fn, mode)


# --------------------------------------------------------------------------- conventions
def test_pytorch_vocabulary_keeps_its_ids(vec):
    path, vectors = vec
    stoi = {"<pad>": 0, "<unk>": 1, "the": 2, "cat": 3, "zebra": 4}
    e = load_aligned(path, stoi)
    check(e, vectors, stoi, 5, 0)
    assert e.padding_idx == 0 and e.missing == ["zebra"]
    assert "padding row 0: the token '<pad>'" in e.summary()
    # torchtext's itos: a list, row = position
    e2 = load_aligned(path, list(stoi))
    assert e2.matrix.tobytes() == e.matrix.tobytes()


def test_hugging_face_sparse_ids(vec):
    path, vectors = vec
    ids = {"[PAD]": 0, "[UNK]": 100, "the": 1996, "cat": 4937, "##ing": 2075}
    e = load_aligned(path, ids)
    check(e, vectors, ids, 4938, 0)
    assert int(e._vocab_rows.sum()) == 4     # gaps are unused rows, not missing words
    assert e.missing == ["[UNK]", "##ing"]


def test_padding_token_anywhere_and_explicit_padding(vec):
    path, vectors = vec
    fairseq = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "the": 4}
    e = load_aligned(path, fairseq)
    assert e.padding_idx == 1
    check(e, vectors, fairseq, 5, 1)
    e = load_aligned(path, fairseq, padding_idx=4)   # an int names it, even over a word
    assert e.padding_idx == 4 and not e.matrix[4].any() and not e.found[4]
    assert "holds the token 'the'" in e.summary()
    e = load_aligned(path, {"the": 1, "cat": 2}, padding_idx=None)
    assert e.padding_idx is None
    with pytest.raises(ValueError, match="padding_idx 9 is outside the 3 rows"):
        load_aligned(path, {"the": 1, "cat": 2}, padding_idx=9)
    with pytest.raises(TypeError, match="padding_idx must be 'auto', an int or None"):
        load_aligned(path, {"the": 1}, padding_idx="first")


def test_zero_based_without_padding_token_says_so(vec):
    path, _ = vec
    e = load_aligned(path, {"the": 0, "cat": 1})
    assert e.padding_idx is None
    assert "no padding row: the token 'the' has id 0" in e.summary()


def test_keras_numbering_unchanged(vec):
    path, vectors = vec
    wi = {w: i + 1 for i, w in enumerate(FILE_WORDS[:10] + ABSENT[:3])}
    e = load_aligned(path, wi, oov="uniform", seed=3)
    assert e.padding_idx == 0
    expect, found = reference(vectors, wi, len(wi) + 1, 0)
    assert e.matrix[found].tobytes() == expect[found].tobytes()
    # the oov rows take the same draws as before issue 10: one uniform draw, in row order
    rows = np.flatnonzero(~found)[1:]
    drawn = np.random.default_rng(3).uniform(-0.05, 0.05, size=(len(rows), vectors.dim))
    assert e.matrix[rows].tobytes() == drawn.astype(np.float32).tobytes()


def test_specials_initialised_apart(vec):
    path, vectors = vec
    ids = {"<pad>": 0, "[CLS]": 1, "<s>": 2, "the": 3, "zebra": 4, "<unk>": 5}
    e = load_aligned(path, ids, oov="zeros", specials=np.full(6, 0.5))
    assert (e.matrix[[1, 2]] == 0.5).all()        # special tokens not in the file
    assert not e.matrix[0].any()                  # the padding row stays zeros
    assert not e.matrix[4].any()                  # an ordinary missing word follows oov
    assert e.matrix[5].tobytes() == vectors["<unk>"].tobytes()   # found: its vector
    e = load_aligned(path, ids, oov="uniform", specials="mean", seed=0)
    mean = e.matrix[e.found].astype(np.float64).mean(axis=0).astype(np.float32)
    assert np.allclose(e.matrix[1], mean) and np.allclose(e.matrix[2], mean)
    assert e.matrix[4].any() and not np.allclose(e.matrix[4], mean)
    with pytest.raises(ValueError, match="specials must be one of"):
        load_aligned(path, ids, specials="random")
    with pytest.raises(ValueError, match=r"specials is a vector of shape \(3,\)"):
        load_aligned(path, ids, specials=[1, 2, 3])


def test_lookup_many_tokens_one_word(vec):
    path, vectors = vec
    ids = {"▁the": 0, "the": 1, "##the": 2, "▁cat": 3, "Cat": 4, "▁zebra": 5}
    strip = lambda t: None if t.startswith("##") else t.removeprefix("▁")  # noqa: E731
    for e in (load_aligned(path, ids, lookup=strip, padding_idx=None, case="fallback"),
              vectors.align(ids, lookup=strip, padding_idx=None, case="fallback")):
        assert e.matrix[0].tobytes() == e.matrix[1].tobytes() == vectors["the"].tobytes()
        assert e.matrix[3].tobytes() == vectors["cat"].tobytes()
        assert e.matrix[4].tobytes() == vectors["cat"].tobytes()   # 'Cat' by case
        assert e.case_matched == {"Cat": "cat"}
        assert e.skipped == ["##the"] and e.missing == ["▁zebra"]
        assert e.coverage == pytest.approx(4 / 5)
    with pytest.raises(TypeError, match=r"lookup\('the'\) returned int 3"):
        load_aligned(path, {"the": 1}, lookup=lambda t: 3)


def test_low_coverage_warns_with_causes(vec):
    path, _ = vec
    wi = {f"Q{i}": i + 1 for i in range(40)}
    wi["the"] = 41
    with pytest.warns(LowCoverageWarning, match=r"only 1 of 41 vocabulary rows \(2\.4%\).*"
                                                 r"case='fallback'"):
        e = load_aligned(path, wi)
    assert "warning: only 1 of 41" in e.summary()
    with pytest.warns(LowCoverageWarning, match="no vocabulary row was found"):
        load_aligned(path, {"zzz": 1})


def test_vectors_file_as_vocabulary_is_refused(vec):
    path, _ = vec
    with pytest.raises(EmbeddingFormatError, match=r"v.txt, line 1: this looks like a file of "
                                                   r"word vectors \(a word followed by 6 numbers\)"):
        load_aligned(path, path)


# --------------------------------------------------------------------------- files
def test_vocab_txt_numbering(vec, tmp_path):
    path, vectors = vec
    p = tmp_path / "vocab.txt"
    p.write_text("[PAD]\n[UNK]\nthe\ncat\n")
    e = load_aligned(path, p)                        # line 1 special: 0-based, said
    check(e, vectors, {"[PAD]": 0, "[UNK]": 1, "the": 2, "cat": 3}, 4, 0)
    assert "line 1 is the special token '[PAD]', so the file is numbered from 0" in e.summary()
    with pytest.warns(UserWarning, match="read from 1 \\(start=1\\), but line 1 is the special"):
        e = load_aligned(path, p, start=1)
    check(e, vectors, {"[PAD]": 1, "[UNK]": 2, "the": 3, "cat": 4}, 5, 0)
    p.write_text("the\ncat\n")
    e = load_aligned(path, p)                        # nothing shows: Keras, said
    check(e, vectors, {"the": 1, "cat": 2}, 3, 0)
    assert "numbered from 1 (line 1 -> id 1, row 0 padding)" in e.summary()
    e = load_aligned(path, p, start=0)
    check(e, vectors, {"the": 0, "cat": 1}, 2, None)
    with pytest.raises(ValueError, match="start must be 0, 1 or None"):
        load_aligned(path, p, start=2)
    with pytest.raises(ValueError, match="start= numbers the lines"):
        load_aligned(path, {"the": 1}, start=0)


def test_tokenizers_files(vec, tmp_path):
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    path, vectors = vec
    corpus = ["the cat sat on the mat", "the dog ran", "hello world foo bar baz"] * 5
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    kinds = {
        "WordLevel": (models.WordLevel(unk_token="[UNK]"), trainers.WordLevelTrainer(special_tokens=specials)),
        "WordPiece": (models.WordPiece(unk_token="[UNK]"),
                      trainers.WordPieceTrainer(vocab_size=80, special_tokens=specials)),
        "BPE": (models.BPE(unk_token="[UNK]"), trainers.BpeTrainer(vocab_size=80, special_tokens=specials)),
        "Unigram": (models.Unigram(), trainers.UnigramTrainer(vocab_size=40, special_tokens=specials,
                                                               unk_token="[UNK]")),
    }
    for name, (model, trainer) in kinds.items():
        tok = Tokenizer(model)
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        tok.train_from_iterator(corpus, trainer)
        tok.add_tokens(["zebra"])                   # an added token, not special
        ids = tok.get_vocab()
        assert ids["[PAD]"] == 0 and len(set(ids.values())) == len(ids)
        saved = tmp_path / f"{name}.json"
        tok.save(str(saved))
        assert read_vocabulary(saved).kind == f"Hugging Face {name}.json ({name})"
        for form in (saved, tok):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LowCoverageWarning)   # Unigram: letters
                e = load_aligned(path, form)
            check(e, vectors, ids, max(ids.values()) + 1, 0)
            assert not e.found[ids["zebra"]]
            if "the" in ids:
                assert e.found[ids["the"]]
        if name == "WordPiece":                     # its vocab.txt: line 1 [PAD] -> 0-based
            folder = tmp_path / "wp"
            folder.mkdir()
            files = tok.model.save(str(folder))
            vocab_txt = [f for f in files if f.endswith("vocab.txt")][0]
            model_ids = tok.get_vocab(with_added_tokens=False)
            e = load_aligned(path, vocab_txt)
            check(e, vectors, model_ids, len(model_ids), 0)


def test_tokenizer_json_declares_specials(tmp_path):
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="UNKNOWN"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["a b c"], trainers.WordLevelTrainer(special_tokens=["PADDING", "UNKNOWN"]))
    tok.save(str(tmp_path / "t.json"))
    vocab = read_vocabulary(tmp_path / "t.json")
    assert vocab.specials == {"PADDING", "UNKNOWN"}   # declared, though not <...>/[...]
    assert read_vocabulary(tok).specials == {"PADDING", "UNKNOWN"}


def test_sentencepiece_vocab(vec, tmp_path):
    spm = pytest.importorskip("sentencepiece")
    path, vectors = vec
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(["the cat sat on the mat", "the dog ran to the cat",
                               "hello world foo bar baz", "naïve 東京 world"] * 20))
    prefix = str(tmp_path / "sp")
    spm.SentencePieceTrainer.train(input=str(text), model_prefix=prefix, vocab_size=30,
                                   pad_id=3, hard_vocab_limit=False, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    ids = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    strip = lambda t: t.removeprefix("\u2581")   # noqa: E731
    assert ids["<unk>"] == 0 and ids["<pad>"] == 3
    e = load_aligned(path, prefix + ".vocab", lookup=strip)
    assert e.padding_idx == 3                     # the <pad> piece, found by "auto"
    check(e, vectors, ids, sp.get_piece_size(), 3, strip)
    assert e.found[sp.piece_to_id("\u2581the")]
    assert "sentencepiece pieces, numbered from 0" in e.summary()
    with pytest.raises(ValueError, match="numbers its pieces from 0"):
        load_aligned(path, prefix + ".vocab", start=1)


def test_keras_tokenizer_num_words(vec, tmp_path):
    np.unicode_ = np.str_  # keras_preprocessing on NumPy 2
    kp = pytest.importorskip("keras_preprocessing.text")
    path, vectors = vec
    tok = kp.Tokenizer(num_words=4, oov_token="<OOV>")
    tok.fit_on_texts(["the the the cat cat sat zebra on mat"])
    p = tmp_path / "tok.json"
    p.write_text(tok.to_json())
    for form in (tok, p):
        e = load_aligned(path, form)
        assert e.num_words == 4                       # min(num_words, len(word_index) + 1)
        check(e, vectors, dict(tok.word_index), 4, 0)
        assert any("num_words=4" in n for n in e.notes)
    assert load_aligned(path, tok, num_words=7).num_words == 7


class _Stoi:        # torchtext.vocab.Vocab's surface
    def __init__(self, itos):
        self.itos = itos

    def get_stoi(self):
        return {t: i for i, t in enumerate(self.itos)}


def test_torchtext_vocab_object(vec):
    path, vectors = vec
    itos = ["<unk>", "<pad>", "the", "cat", "zebra"]
    e = load_aligned(path, _Stoi(itos))
    assert e.padding_idx == 1
    check(e, vectors, {t: i for i, t in enumerate(itos)}, 5, 1)


# --------------------------------------------------------------------------- downstream
def test_layer_masks_and_freezes_the_padding_row(vec):
    path, _ = vec
    e = load_aligned(path, {"<s>": 0, "<pad>": 1, "the": 2, "zebra": 3})
    layer = Embedding.from_pretrained(e, trainable="missing")
    assert layer.padding_idx == 1 and layer.mask_zero
    assert layer.trainable_mask.tolist() == [True, False, False, True]   # <s> not found: trains
    assert layer.compute_mask(np.array([[0, 1, 2]])).tolist() == [[True, False, True]]
    keras_style = Embedding.from_pretrained(load_aligned(path, {"the": 1}))
    assert keras_style.padding_idx == 0 and keras_style.mask_zero
    none = Embedding.from_pretrained(load_aligned(path, {"<unk>x": 0, "the": 1}, padding_idx=None),
                                     trainable="missing")
    assert not none.mask_zero
    assert none.trainable_mask.tolist() == [True, False]   # row 0 is a token: it trains


def test_to_keras_refuses_a_mask_on_the_wrong_row(vec):
    path, _ = vec
    with pytest.raises(ValueError, match="masks index 0, but the padding row is 1"):
        load_aligned(path, {"<s>": 0, "<pad>": 1, "the": 2}).to_keras(mask_zero=True)
    with pytest.raises(ValueError, match="masks index 0, but row 0 is the token 'the'"):
        load_aligned(path, {"the": 0}).to_keras(mask_zero=True)


def test_to_torch_passes_the_padding_row(vec, monkeypatch):
    calls = []
    fake = types.ModuleType("torch")
    fake.from_numpy = lambda a: a
    fake.nn = types.SimpleNamespace(Embedding=types.SimpleNamespace(
        from_pretrained=lambda w, freeze, padding_idx: calls.append(padding_idx)))
    monkeypatch.setitem(sys.modules, "torch", fake)
    path, _ = vec
    load_aligned(path, {"<s>": 0, "<pad>": 1, "the": 2}).to_torch()
    load_aligned(path, {"the": 1}).to_torch()
    load_aligned(path, {"the": 0}).to_torch()
    load_aligned(path, {"the": 1}).to_torch(padding_idx=None)
    assert calls == [1, 0, None, None]


def test_get_vecs_by_tokens_as_torchtext(vec):
    _, vectors = vec
    got = vectors.get_vecs_by_tokens(["the", "THE", "zebra", "The"])
    assert got.shape == (4, 6) and got.dtype == vectors.vectors.dtype
    assert got[0].tobytes() == vectors["the"].tobytes()
    assert not got[1].any() and not got[2].any()          # missing: zeros
    assert got[3].tobytes() == vectors["The"].tobytes()
    backup = vectors.get_vecs_by_tokens(["THE", "The"], lower_case_backup=True)
    assert backup[0].tobytes() == vectors["the"].tobytes()
    assert backup[1].tobytes() == vectors["The"].tobytes()   # as written wins
    one = vectors.get_vecs_by_tokens("cat")
    assert one.shape == (6,) and one.tobytes() == vectors["cat"].tobytes()


def test_cli_start_and_padding_idx(vec, tmp_path, capsys):
    path, vectors = vec
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("the\ncat\nzebra\n")
    out = tmp_path / "m.npy"
    assert main(["align", str(path), "--word-index", str(vocab), "--out", str(out),
                 "--start", "0", "--padding-idx", "2", "--no-progress"]) == 0
    text = capsys.readouterr().out
    m = np.load(out)
    assert m.shape == (3, 6) and not m[2].any()
    assert m[0].tobytes() == vectors["the"].tobytes()
    assert "numbered from 0 (start=0)" in text and "padding row 2 (padding_idx=2)" in text
    long = tmp_path / "long.json"
    long.write_text(json.dumps({"x" * 500: 1}))
    assert main(["align", str(path), "--word-index", str(long), "--out", str(out),
                 "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "missing     " + "x" * 40 + "..." in captured.out
    assert "warning     no vocabulary row was found" in captured.err
    assert main(["align", str(path), "--word-index", str(vocab), "--out", str(out),
                 "--padding-idx", "-1"]) == 2


def test_cache_folder_same_rows(vec, tmp_path):
    path, vectors = vec
    cache = tmp_path / "v.embload"
    embload.convert(str(path), str(cache), to="embload")
    ids = {"▁the": 0, "the": 1, "<pad>": 2, "Cat": 3, "zebra": 7}
    strip = lambda t: t.removeprefix("▁")   # noqa: E731
    from_cache = load_aligned(cache, ids, lookup=strip, case="fallback")
    from_file = load_aligned(path, ids, lookup=strip, case="fallback")
    assert from_cache.padding_idx == from_file.padding_idx == 2
    assert from_cache.matrix.tobytes() == from_file.matrix.tobytes()
    check(from_cache, vectors, ids, 8, 2, strip, "fallback")


# --------------------------------------------------------------------------- static models
def test_save_pretrained_opens_in_model2vec(vec, tmp_path):
    pytest.importorskip("tokenizers")
    pytest.importorskip("safetensors")
    model2vec = pytest.importorskip("model2vec")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    path, vectors = vec
    # a Keras-numbered vocabulary: a WordLevel tokenizer is built, [UNK] on row 0
    wi = {"the": 1, "cat": 2, "sat": 3, "zebra": 4}
    aligned = load_aligned(path, wi)
    folder = aligned.save_pretrained(tmp_path / "keras")
    model = model2vec.StaticModel.from_pretrained(folder)
    assert np.asarray(model.embedding).tobytes() == aligned.matrix.tobytes()
    got = model.encode(["The cat sat", "zebra qux"])
    assert np.allclose(got[0], aligned.matrix[[1, 2, 3]].astype(np.float64).mean(axis=0), atol=1e-6)
    assert np.allclose(got[1], aligned.matrix[4], atol=1e-6)        # qux: unknown, dropped
    # a tokenizer.json: the file itself is written out, its ids are the rows
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["the cat sat on the mat"],
                            trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]"]))
    tok.save(str(tmp_path / "tokenizer.json"))
    aligned = load_aligned(path, tmp_path / "tokenizer.json")
    model = model2vec.StaticModel.from_pretrained(aligned.save_pretrained(tmp_path / "hf"))
    assert np.asarray(model.embedding).tobytes() == aligned.matrix.tobytes()
    ids = [tok.token_to_id(t) for t in ("the", "mat")]
    assert np.allclose(model.encode(["the mat"])[0],
                       aligned.matrix[ids].astype(np.float64).mean(axis=0), atol=1e-6)
    from_object = load_aligned(path, tok)               # the Tokenizer object itself
    model = model2vec.StaticModel.from_pretrained(from_object.save_pretrained(tmp_path / "obj"))
    assert model.tokenizer.get_vocab() == tok.get_vocab()
    keras_ids = load_aligned(path, {"the": 1, "zzz": 6})     # 7 rows, as the tokenizer
    model = model2vec.StaticModel.from_pretrained(
        keras_ids.save_pretrained(tmp_path / "given", tokenizer=tmp_path / "tokenizer.json"))
    assert model.tokenizer.get_vocab() == tok.get_vocab()
    with pytest.raises(TypeError, match="tokenizer must be a tokenizers.Tokenizer"):
        keras_ids.save_pretrained(tmp_path / "bad", tokenizer={"the": 1})
    cut = load_aligned(path, tmp_path / "tokenizer.json", num_words=3)
    with pytest.raises(ValueError, match="the tokenizer has ids up to"):
        cut.save_pretrained(tmp_path / "cut")
