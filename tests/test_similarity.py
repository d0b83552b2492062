"""Similarity queries and evaluations (embload/similarity.py, embload/_similarity.pyx) against
gensim's KeyedVectors on the sample vectors and gensim's own test files, and the kernels
against dense NumPy.

Scores agree with gensim's within float32 rounding (the sums run in another order: BLAS on
tiles here, one BLAS call over the table there). Words agree in order, except that a run
of scores equal within that rounding may come in another order: gensim leaves exact ties to
np.argpartition, embload puts the lower row first (tested on its own below).
"""

import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck, example

import embload
from embload import _similarity, similarity as sim
from embload.errors import EmbeddingFormatError
from embload.vectors import Vectors
from conftest import Optional

gensim_models = Optional("gensim.models")          # the reference: tests that use it skip without it
datapath = Optional("gensim.test.utils", "datapath")   # the standard sets ship in gensim's test data

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, os.pardir, "data", "sample.vec")
PAIR_NAMES = ["wordsim353.tsv", "simlex999.txt"]


def questions():
    return datapath("questions-words.txt")


def pair_sets():
    return [datapath(name) for name in PAIR_NAMES]
# float32 rounding of a cosine summed in another order (300 terms at most here)
TOL = 1e-6


@pytest.fixture(scope="module")
def sample():
    return embload.load(SAMPLE)


@pytest.fixture(scope="module")
def sample_kv():
    # gensim's own reader: an independent copy of the same vectors
    return gensim_models.KeyedVectors.load_word2vec_format(SAMPLE)


@pytest.fixture(scope="module")
def gensim_file():
    # gensim's own test vectors (word2vec text, 1750 words x 10), used by its analogy tests
    path = datapath("word2vec_pre_kv_c")
    return embload.load(path), gensim_models.KeyedVectors.load_word2vec_format(path)


def assert_same_answers(mine, theirs, tol=TOL):
    """Same words in the same order and scores within tol; runs of near-equal scores may be
    ordered differently (and the last run may be cut at another word)."""
    assert len(mine) == len(theirs)
    mine_scores = np.array([s for _, s in mine])
    their_scores = np.array([s for _, s in theirs])
    np.testing.assert_allclose(mine_scores, their_scores, rtol=0, atol=tol)
    i = 0
    while i < len(theirs):
        j = i + 1
        while j < len(theirs) and abs(their_scores[j] - their_scores[j - 1]) <= 2 * tol:
            j += 1
        if j == len(theirs) and j - i > 1:
            break  # a near-tie at the cut: either side may keep another word of it
        if j - i == 1 and i == len(theirs) - 1 and i > 0:
            pass
        assert {w for w, _ in mine[i:j]} == {w for w, _ in theirs[i:j]}, (i, mine, theirs)
        i = j


# --- queries against gensim ---------------------------------------------------------------
def test_most_similar_one_word_matches_gensim(sample, sample_kv):
    rng = np.random.default_rng(0)
    rows = list(range(40)) + list(rng.choice(len(sample), 60, replace=False))
    for row in rows:
        word = sample.words[int(row)]
        assert_same_answers(sample.most_similar(word, topn=10), sample_kv.most_similar(word, topn=10))


def test_most_similar_positive_negative_weights_vectors_restrict(sample, sample_kv):
    w = sample.words
    vec = sample.vectors[77] * 3.0
    cases = [
        dict(positive=[w[20], w[30]], negative=[w[40]]),
        dict(positive=[(w[5], 2.0), w[6]], negative=[(w[7], -0.5)]),
        dict(positive=[vec, w[8]]),
        dict(negative=[w[9]]),
        dict(positive=np.stack([sample.vectors[3], sample.vectors[4]])),
        dict(positive=[w[20], w[30]], negative=[w[40]], restrict_vocab=500),
        dict(positive=w[11], restrict_vocab=50),
    ]
    for case in cases:
        for topn in (1, 10, 25):
            assert_same_answers(sample.most_similar(topn=topn, **case),
                                sample_kv.most_similar(topn=topn, **case))


def test_most_similar_topn_none_gives_every_score(sample, sample_kv):
    w = sample.words
    for restrict in (None, 100):
        mine = sample.most_similar(positive=[w[1], w[2]], negative=[w[3]], topn=None, restrict_vocab=restrict)
        theirs = sample_kv.most_similar(positive=[w[1], w[2]], negative=[w[3]], topn=None,
                                        restrict_vocab=restrict)
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOL)
    assert sample.most_similar(w[1], topn=0) == [] == sample_kv.most_similar(w[1], topn=0)


def test_topn_beyond_the_vocabulary(sample, sample_kv):
    # gensim returns every row searched; the heaps must not be sized by topn (10**12 entries
    # per query and part would not fit in memory)
    w = sample.words
    huge = 10**12
    for restrict in (None, 50):
        assert_same_answers(sample.most_similar(w[1], topn=huge, restrict_vocab=restrict),
                            sample_kv.most_similar(w[1], topn=huge, restrict_vocab=restrict))
    assert_same_answers(sample.most_similar_cosmul([w[1]], [w[2]], topn=huge),
                        sample_kv.most_similar_cosmul([w[1]], [w[2]], topn=huge))
    batch = sample.most_similar_batch(list(w[:20]), topn=huge, restrict_vocab=30)
    assert [len(answers) for answers in batch] == [29] * 20
    assert_same_answers(batch[3], sample.most_similar(w[3], topn=30, restrict_vocab=30))
    tiny = Vectors(["a", "b"], np.array([[1, 0], [1, 1]], dtype=np.float32))
    assert [word for word, _ in tiny.most_similar("a", topn=huge)] == ["b"]


def test_bytes_words_are_refused(sample):
    # a word given as bytes is refused by name, whichever function takes it (it was taken
    # as a sequence of integers, or as a 0-d vector)
    w = sample.words
    for call in (lambda: sample.most_similar(w[1].encode()), lambda: sample.most_similar(b"\xff"),
                 lambda: sample.most_similar(positive=[(w[1].encode(), 1.0)]),
                 lambda: sample.most_similar_batch([w[1], w[2].encode()]),
                 lambda: sample.most_similar_cosmul([w[1].encode()]),
                 lambda: sample.similarity(w[1], w[2].encode())):
        with pytest.raises(TypeError, match=r"a word is a str, not bytes: b'"):
            call()


def test_similar_by_vector_matches_gensim(sample, sample_kv):
    rng = np.random.default_rng(1)
    for _ in range(10):
        vec = rng.standard_normal(sample.dim).astype(np.float32)
        assert_same_answers(sample.similar_by_vector(vec, topn=15), sample_kv.similar_by_vector(vec, topn=15))
    # a word's own vector: the word itself comes first (no exclusion for vectors)
    word = sample.words[12]
    assert sample.similar_by_vector(sample[word], topn=1)[0][0] == word


def test_cosmul_matches_gensim(sample, sample_kv):
    w = sample.words
    for pos, neg in [([w[20], w[30]], [w[40]]), ([w[3]], []), ([w[3], w[4], w[5]], [w[6], w[7]]),
                     ([sample.vectors[9], w[10]], [w[11]])]:
        assert_same_answers(sample.most_similar_cosmul(pos, neg, topn=10),
                            sample_kv.most_similar_cosmul(pos, neg, topn=10))
        np.testing.assert_allclose(sample.most_similar_cosmul(pos, neg, topn=None),
                                   sample_kv.most_similar_cosmul(pos, neg, topn=None), rtol=0, atol=TOL)


def test_cosmul_restrict_vocab_against_numpy(sample):
    # gensim 4.4 ignores restrict_vocab in most_similar_cosmul; the dense formula is the reference
    w = sample.words
    matrix = sample.vectors.astype(np.float64)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    shifted = (1 + unit[:300] @ unit[[20, 30, 40]].T) / 2
    score = shifted[:, 0] * shifted[:, 1] / (shifted[:, 2] + 1e-6)
    score[[20, 30, 40]] = -np.inf
    order = np.argsort(-score, kind="stable")[:10]
    mine = sample.most_similar_cosmul([w[20], w[30]], [w[40]], topn=10, restrict_vocab=300)
    assert [x for x, _ in mine] == [w[i] for i in order]
    np.testing.assert_allclose([s for _, s in mine], score[order], rtol=1e-5)


def test_similarity_and_doesnt_match_match_gensim(sample, sample_kv):
    w = sample.words
    for i, j in [(0, 1), (3, 9), (100, 2000), (5, 5)]:
        assert sample.similarity(w[i], w[j]) == pytest.approx(float(sample_kv.similarity(w[i], w[j])), abs=TOL)
    rng = np.random.default_rng(2)
    for _ in range(20):
        words = [w[int(i)] for i in rng.choice(len(w), 6, replace=False)]
        assert sample.doesnt_match(words) == sample_kv.doesnt_match(words)
    with pytest.warns(UserWarning, match="not present"):
        assert sample.doesnt_match([w[1], w[2], "no-such-word", w[900]]) == \
            sample_kv.doesnt_match([w[1], w[2], "no-such-word", w[900]])
    with pytest.raises(ValueError, match="empty list"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample.doesnt_match(["no-such-word"])


def test_batch_equals_single_queries_and_gensim(sample, sample_kv):
    rng = np.random.default_rng(3)
    words = [sample.words[int(i)] for i in rng.choice(len(sample), 40, replace=False)]
    vec = rng.standard_normal(sample.dim).astype(np.float32)
    queries = words + [vec, sample.vectors[5]]
    batch = sample.most_similar_batch(queries, topn=10)
    assert len(batch) == len(queries)
    for q, answers in zip(queries, batch):
        # a batch of 16 or more goes through BLAS: the last bit of a score may differ
        assert_same_answers(answers, sample.most_similar(positive=[q], topn=10))
        assert_same_answers(answers, sample_kv.most_similar(positive=[q], topn=10))
    # up to 15 queries take the compiled scan of a single one: the same bits
    small = sample.most_similar_batch(queries[:15], topn=10)
    assert small == [sample.most_similar(positive=[q], topn=10) for q in queries[:15]]
    # a 2-D array of query vectors, and restrict_vocab
    arr = sample.vectors[10:13]
    for row, answers in zip(arr, sample.most_similar_batch(arr, topn=5, restrict_vocab=200)):
        assert_same_answers(answers, sample_kv.similar_by_vector(row, topn=5, restrict_vocab=200))
    assert sample.most_similar_batch([], topn=3) == []
    assert sample.most_similar_batch(words[:2], topn=0) == [[], []]


def test_unknown_words_and_bad_queries(sample):
    with pytest.raises(KeyError, match="no-such-word"):
        sample.most_similar("no-such-word")
    with pytest.raises(KeyError, match="no-such-word"):
        sample.most_similar_batch(["the", "no-such-word"])
    with pytest.raises(KeyError, match="no-such-word"):
        sample.similarity("the", "no-such-word")
    with pytest.raises(KeyError):
        sample.most_similar_cosmul(["the"], ["no-such-word"])
    with pytest.raises(ValueError, match="no input"):
        sample.most_similar()
    with pytest.raises(ValueError, match="no input"):
        sample.most_similar_cosmul(negative=["the"])
    with pytest.raises(ValueError, match=r"shape \(50,\)"):
        sample.similar_by_vector(np.zeros(3))
    with pytest.raises(TypeError, match="topn"):
        sample.most_similar("the", topn=2.5)
    with pytest.raises(TypeError, match="restrict_vocab"):
        sample.most_similar("the", restrict_vocab="10")


# --- order, ties, zero and non-finite vectors ----------------------------------------------
def test_ties_lower_row_first_and_odd_vectors():
    base = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [2, 0, 0], [0, 0, 0], [np.nan, 1, 0],
                     [1, 1, 0], [1, 0, 0]], dtype=np.float32)
    v = Vectors(["a", "b", "c", "d", "zero", "nan", "ab", "e"], base)
    got = v.most_similar("a", topn=10)
    # c, d and e are a's direction exactly (score 1): lower row first
    assert [w for w, _ in got] == ["c", "d", "e", "ab", "b", "zero"]
    assert [s for _, s in got][:3] == [1.0, 1.0, 1.0]
    # the zero vector scores 0 (its own unit vector), the NaN row is never an answer
    assert dict(got)["zero"] == 0.0
    assert v.similarity("a", "zero") == 0.0
    assert not any(np.isnan(s) for _, s in got)
    assert v.most_similar_batch(["a"], topn=10)[0] == got
    # 3CosMul: the zero row scores 0, last (cosine 0 with both terms would give it
    # 0.5 / (0.5 + 1e-6), above every real answer)
    cosmul = v.most_similar_cosmul(["a"], ["b"], topn=10)
    assert cosmul[-1] == ("zero", 0.0) and cosmul[0][1] > 1.0
    assert v.most_similar_cosmul(["a"], ["b"], topn=None)[4] == 0.0
    # a query with a NaN is refused: its scores are all NaN, and its answer would be empty
    for call in (lambda: v.most_similar("nan"), lambda: v.most_similar(["a"], ["nan"]),
                 lambda: v.similar_by_vector(np.array([1, np.inf, 0])),
                 lambda: v.most_similar_batch(["a", "nan"])):
        with pytest.raises(ValueError, match="the query is not finite"):
            call()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 300), nq=st.integers(1, 5), k=st.integers(1, 20), tile=st.integers(1, 64),
       threads=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]))
# a zero-norm row (cosine 0) with a negative dot product, after a worse row entered the heap:
# the threshold test without the division once rejected it (found by CI's hypothesis run)
@example(n=6, nq=2, k=2, tile=1, threads=1, seed=2, dtype=np.float32)
def test_topk_kernel_against_lexsort(n, nq, k, tile, threads, seed, dtype):
    rng = np.random.default_rng(seed)
    # few distinct values: many exact ties, and some NaN
    scores = rng.integers(-3, 4, size=(nq, n)).astype(dtype)
    scores[rng.random((nq, n)) < 0.05] = np.nan
    norms = rng.choice(np.array([0, 0.5, 1, 2], dtype=dtype), size=n)
    exclude = rng.integers(-1, n, size=(nq, 3)).astype(np.int64)
    heap_scores, heap_rows = _similarity.new_heaps(nq, 2, k, dtype)
    for start in range(0, n, tile):
        _similarity.topk_update(np.ascontiguousarray(scores[:, start:start + tile]), norms[start:start + tile],
                                start, heap_scores, heap_rows, exclude, threads)
    rows, best = sim._merge_heaps(heap_scores, heap_rows, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        final = np.where(norms > 0, scores / norms, 0).astype(dtype)
    for q in range(nq):
        keep = [r for r in range(n) if r not in set(exclude[q]) and not np.isnan(final[q, r])]
        expect = sorted(keep, key=lambda r: (-final[q, r], r))[:k]
        got = [int(r) for r in rows[q] if r >= 0]
        assert got == expect
        np.testing.assert_array_equal(best[q, :len(got)], final[q, expect])


@pytest.fixture(params=range(_similarity.SIMD_LEVEL + 1), ids=lambda level: f"simd{level}")
def simd_level(request):
    """Every path of src/simdot.h this CPU has: portable C, AVX2/FMA/F16C, AVX-512."""
    old = _similarity._set_simd_level(request.param)
    yield request.param
    _similarity._set_simd_level(old)


def _scan(table, query, norms, stop, k, exclude, threads):
    cdt = np.float64 if table.dtype == np.float64 else np.float32
    heap_scores, heap_rows = _similarity.new_heaps(1, threads, k, cdt)
    _similarity.scan(table, np.ascontiguousarray(query[None, :], dtype=cdt), norms.astype(cdt), stop,
                     heap_scores, heap_rows, np.asarray([exclude], dtype=np.int64).reshape(1, -1), threads)
    return sim._merge_heaps(heap_scores, heap_rows, k)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 200), dim=st.integers(1, 40), k=st.integers(1, 30), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]))
def test_scan_one_query_against_numpy(simd_level, n, dim, k, seed, dtype):
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((n, dim)).astype(dtype)
    table[rng.random(n) < 0.1] = 0  # zero rows: score 0
    query = rng.standard_normal(dim)
    norms = np.sqrt((table.astype(np.float64) ** 2).sum(axis=1))
    stop = int(rng.integers(0, n + 1))
    exclude = list(rng.integers(0, n, size=2))
    exact = table.astype(np.float64) @ query
    exact = np.divide(exact, norms, out=np.zeros(n), where=norms != 0)
    rows, scores = _scan(table, query, norms, stop, k, exclude, 1)
    got = [int(r) for r in rows[0] if r >= 0]
    expect_len = min(k, len(set(range(stop)) - set(exclude)))
    assert len(got) == expect_len and not set(got) & set(exclude) and all(r < stop for r in got)
    tol = 1e-9 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(scores[0, :len(got)], exact[got], atol=tol)
    # the answers are the best rows (up to near-ties at the cut)
    rest = [r for r in range(stop) if r not in got and r not in exclude]
    if got and rest:
        assert exact[rest].max() <= exact[got].min() + 2 * tol
    # any thread count: the same bits
    for threads in (2, 3):
        rows_t, scores_t = _scan(table, query, norms, stop, k, exclude, threads)
        assert np.array_equal(rows_t, rows) and np.array_equal(scores_t, scores, equal_nan=True)


@pytest.mark.parametrize("tile_rows", [1, 3, 64])
def test_scan_batches_are_the_bits_of_single_queries(simd_level, tile_rows):
    # 4 x 4 blocks, the rows and queries left over, float16 tiles widened once: every score
    # equals the one-query scan's, for each dtype and SIMD path
    rng = np.random.default_rng(9)
    n, dim, nq, k = 203, 37, 11, 7
    for dtype in (np.float16, np.float32, np.float64):
        table = rng.standard_normal((n, dim)).astype(dtype)
        cdt = np.float64 if dtype == np.float64 else np.float32
        queries = rng.standard_normal((nq, dim)).astype(cdt)
        norms = np.sqrt((table.astype(np.float64) ** 2).sum(axis=1)).astype(cdt)
        exclude = rng.integers(-1, n, size=(nq, 2)).astype(np.int64)
        hs, hr = _similarity.new_heaps(nq, 3, k, cdt)
        _similarity.scan(table, queries, norms, n, hs, hr, exclude, 2, tile_rows)
        rows, scores = sim._merge_heaps(hs, hr, k)
        for q in range(nq):
            one_rows, one_scores = _scan(table, queries[q], norms, n, k, list(exclude[q]), 1)
            assert np.array_equal(rows[q], one_rows[0]) and np.array_equal(scores[q], one_scores[0])
        if dtype == np.float16:
            wide = np.ascontiguousarray(table.astype(np.float32))
            hs32, hr32 = _similarity.new_heaps(nq, 3, k, cdt)
            _similarity.scan(wide, queries, norms, n, hs32, hr32, exclude, 2, tile_rows)
            assert np.array_equal(hs32, hs) and np.array_equal(hr32, hr)


def test_scan_widens_every_float16_exactly(simd_level):
    # all 65536 float16 bit patterns, 8 to a row; the query picks one lane per scan, so the
    # score of each row is that value exactly (or NaN for NaN/inf rows, which never appear)
    halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16).reshape(-1, 8)
    wide = halves.astype(np.float32)
    ones = np.ones(len(halves))
    for lane in (0, 5):
        query = np.zeros(8)
        query[lane] = 1.0
        rows16, scores16 = _scan(halves, query, ones, len(halves), len(halves), [], 2)
        rows32, scores32 = _scan(wide, query, ones, len(halves), len(halves), [], 2)
        assert np.array_equal(rows16, rows32) and np.array_equal(scores16, scores32, equal_nan=True)
        kept = rows16[0][rows16[0] >= 0]
        assert np.array_equal(scores16[0][: len(kept)], wide[kept, lane])


def test_scan_refuses_mismatched_inputs():
    table = np.zeros((4, 3), dtype=np.float32)
    hs, hr = _similarity.new_heaps(1, 1, 2, np.float32)
    ex = np.zeros((1, 0), dtype=np.int64)
    with pytest.raises(TypeError, match="float64 table takes float64 queries"):
        _similarity.scan(table.astype(np.float64), np.zeros((1, 3), np.float32), np.ones(4, np.float32), 4, hs, hr, ex, 1)
    with pytest.raises(ValueError, match="queries have 3 values for rows of 5"):
        _similarity.scan(np.zeros((4, 5), np.float32), np.zeros((1, 3), np.float32), np.ones(4, np.float32), 4, hs, hr, ex, 1)
    with pytest.raises(ValueError, match="stop 9"):
        _similarity.scan(table, np.zeros((1, 3), np.float32), np.ones(4, np.float32), 9, hs, hr, ex, 1)
    with pytest.raises(TypeError, match="int32"):
        _similarity.scan(table.astype(np.int32), np.zeros((1, 3), np.float32), np.ones(4, np.float32), 4, hs, hr, ex, 1)


def test_row_norms_cached_once_and_exact():
    rng = np.random.default_rng(4)
    for dtype in (np.float16, np.float32, np.float64):
        matrix = rng.standard_normal((50, 7)).astype(dtype)
        v = Vectors([f"w{i}" for i in range(50)], matrix)
        norms = sim.row_norms(v)
        assert norms.dtype == (np.float64 if dtype == np.float64 else np.float32)
        expect = np.sqrt((matrix.astype(np.float64) ** 2).sum(axis=1))
        np.testing.assert_array_equal(norms, expect.astype(norms.dtype))
        assert sim.row_norms(v) is norms  # kept
        matrix[0] *= 2  # changed in place: force recomputes
        assert sim.row_norms(v, force=True)[0] == pytest.approx(2 * norms[0], rel=1e-3)


# --- float16, memory-mapped, tiles and threads give the same answers -------------------------
@pytest.fixture
def small_tiles(monkeypatch):
    """Scan tiles of 5 rows, parts of 100 rows or more, NumPy tiles of 1100 rows and chunks
    of 64 queries, so the sample's scans cross tile, part and chunk boundaries."""
    monkeypatch.setattr(sim, "SCAN_TILE_ROWS", 5)
    monkeypatch.setattr(sim, "SCORE_TILE_BYTES", 64 * 700 * 4)
    monkeypatch.setattr(sim, "MIN_PART_ROWS", 100)
    monkeypatch.setattr(sim, "CONVERT_TILE_BYTES", 1100 * 50 * 4)
    monkeypatch.setattr(sim, "QUERY_CHUNK", 64)
    monkeypatch.setattr(sim, "ANALOGY_BATCH", 300)


def _all_answers(v, threads=None):
    w = v.words
    return (
        [v.most_similar(w[i], topn=8, threads=threads) for i in range(0, 400, 37)],
        v.most_similar(positive=[w[20], w[30]], negative=[w[40]], topn=8, restrict_vocab=1000),
        v.most_similar_cosmul([w[20], w[30]], [w[40]], topn=8),
        v.most_similar_batch(list(w[:30]), topn=8, threads=threads),
        [v.similarity(w[i], w[i + 1]) for i in range(20)],
        v.evaluate_word_analogies(questions(), threads=threads)[0],
        tuple(v.evaluate_word_pairs(pair_sets()[0])),
    )


def test_float16_table_gives_the_float32_answers(sample, small_tiles):
    half = sample.vectors.astype(np.float16)
    v16 = Vectors(sample.words, half)
    v32 = Vectors(sample.words, half.astype(np.float32))
    assert _all_answers(v16) == _all_answers(v32)


def test_memory_mapped_cache_gives_the_same_answers(sample, tmp_path, small_tiles):
    folder = tmp_path / "sample.embload"
    embload.save(sample, folder)
    cached = embload.load(folder)
    assert isinstance(cached.vectors, np.memmap) or not cached.vectors.flags.owndata
    assert _all_answers(cached) == _all_answers(Vectors(sample.words, np.array(sample.vectors)))


def test_same_answers_for_any_thread_count(sample, small_tiles, monkeypatch):
    v = Vectors(sample.words, np.array(sample.vectors))
    words = list(v.words[:200])

    def answers(threads):
        return (v.most_similar_batch(words, topn=8, threads=threads),
                v.evaluate_word_analogies(questions(), restrict_vocab=1000, threads=threads))

    first = answers(1)
    for threads in (2, 3):
        assert answers(threads) == first
    # selecting from a tile beside BLAS scoring the next one, or after it, on 1 or 2 threads
    for overlap, select_threads in ((False, 1), (True, 2)):
        monkeypatch.setattr(sim, "OVERLAP_SELECTION", overlap)
        monkeypatch.setattr(sim, "SELECT_THREADS", select_threads)
        assert answers(2) == first


# --- evaluations against gensim -----------------------------------------------------------
def _section_lists(sections):
    return [(s["section"], s["correct"], s["incorrect"]) for s in sections]


@pytest.mark.parametrize("options", [
    dict(),
    dict(restrict_vocab=2000),
    dict(case_insensitive=False),
    dict(dummy4unknown=True, restrict_vocab=1000),
    dict(restrict_vocab=None),
])
def test_analogies_match_gensim_on_the_sample(sample, sample_kv, options):
    score, sections = sample.evaluate_word_analogies(questions(), **options)
    gscore, gsections = sample_kv.evaluate_word_analogies(questions(), **options)
    assert score == gscore
    assert _section_lists(sections) == _section_lists(gsections)


def test_analogies_match_gensim_on_gensims_vectors(gensim_file):
    v, kv = gensim_file
    score, sections = v.evaluate_word_analogies(questions())
    gscore, gsections = kv.evaluate_word_analogies(questions())
    assert score == gscore
    assert sum(len(s["incorrect"]) for s in sections[:-1]) > 100  # questions were asked
    assert _section_lists(sections) == _section_lists(gsections)
    assert len(sections) == 15  # 14 sections and the total


def test_analogies_case_variants_and_inputs_are_skipped(tmp_path):
    pytest.importorskip("gensim")   # the reference is gensim's own loop (through to_gensim)
    # "Paris" (row 4) is a case variant of the input "paris": gensim's loop skips it; a, b and
    # c take the vectors of their first case variant
    words = ["france", "paris", "italy", "rome", "Paris", "Rome", "x"]
    vecs = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [1, 1, 0.01], [0, 1, 1.01],
                     [0.3, 0.2, 0.1]], dtype=np.float32)
    v = Vectors(words, vecs)
    kv = v.to_gensim()
    path = tmp_path / "q.txt"
    path.write_text(": capitals\nfrance paris italy rome\nFRANCE PARIS ITALY X\nbad line\nitaly rome france paris\n")
    for options in (dict(), dict(case_insensitive=False)):
        with pytest.warns(UserWarning, match="line 4"):
            mine = v.evaluate_word_analogies(path, **options)
        assert mine[0] == kv.evaluate_word_analogies(str(path), **options)[0]
        assert _section_lists(mine[1]) == _section_lists(kv.evaluate_word_analogies(str(path), **options)[1])


def test_analogy_file_errors(sample, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("a b c d\n: section\n")
    with pytest.raises(EmbeddingFormatError, match=r"q.txt, line 1: missing section header"):
        sample.evaluate_word_analogies(path)
    path.write_text(": only a header\n")
    with pytest.raises(ValueError, match="no analogy questions"):
        sample.evaluate_word_analogies(path)
    path.write_bytes(b": s\nthe of and \xff\n")
    with pytest.raises(EmbeddingFormatError, match="line 2: not valid UTF-8"):
        sample.evaluate_word_analogies(path)


@pytest.mark.parametrize("name", PAIR_NAMES)
@pytest.mark.parametrize("options", [dict(), dict(dummy4unknown=True), dict(case_insensitive=False),
                                     dict(restrict_vocab=1500), dict(restrict_vocab=None)])
def test_word_pairs_match_gensim(sample, sample_kv, gensim_file, name, options):
    path = datapath(name)
    for v, kv in [(sample, sample_kv), gensim_file]:
        pearson, spearman, oov = v.evaluate_word_pairs(path, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gpearson, gspearman, goov = kv.evaluate_word_pairs(path, **options)
        assert oov == goov
        assert pearson[0] == pytest.approx(gpearson[0], abs=1e-6)
        assert spearman[0] == pytest.approx(gspearman[0], abs=1e-6)
        assert pearson[1] == pytest.approx(gpearson[1], rel=1e-4, abs=1e-12)
        assert spearman[1] == pytest.approx(gspearman[1], rel=1e-4, abs=1e-12)


def test_word_pairs_errors(sample, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# nothing known\nzzz\tyyy\t1.0\nnot a pair\n")
    with pytest.raises(ValueError, match="No valid similarity judgements"):
        sample.evaluate_word_pairs(path)


def test_word_pairs_bad_lines_are_named(sample, tmp_path):
    w = sample.words
    path = tmp_path / "pairs.tsv"
    # a blank line and a comment are not reported; a line of two fields and one without a
    # numeric score are, by the first one's number; CRLF line ends read as LF
    path.write_bytes(f"# c\r\n{w[1]}\t{w[2]}\t1.5\r\n\r\n{w[3]}\t{w[4]}\r\n{w[5]}\t{w[6]}\thigh\r\n"
                     f"{w[7]}\t{w[8]}\t3\r\n{w[9]}\t{w[10]}\t2\r\n".encode())
    with pytest.warns(UserWarning, match=r"pairs.tsv: skipped 2 line\(s\).* the first at line 4: "):
        pearson, _, oov = sample.evaluate_word_pairs(path)
    gold = [1.5, 3, 2]
    model = [sample.similarity(w[1], w[2]), sample.similarity(w[7], w[8]), sample.similarity(w[9], w[10])]
    assert oov == 0 and pearson[0] == pytest.approx(float(np.corrcoef(gold, model)[0, 1]), abs=1e-6)
    path.write_bytes(f"{w[1]}\t{w[2]}\t1\n{w[3]}\t\xff\t2\n".encode("latin-1"))
    with pytest.raises(EmbeddingFormatError, match=r"pairs.tsv, line 2: not valid utf8: .*xff"):
        sample.evaluate_word_pairs(path)


# --- correlations against scipy -------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(n=st.integers(3, 60), levels=st.integers(2, 50), seed=st.integers(0, 2**32 - 1))
def test_pearson_spearman_against_scipy(n, levels, seed):
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, n).astype(np.float64)  # ties
    y = x * rng.uniform(-1, 1) + rng.standard_normal(n)
    if np.ptp(x) == 0:
        return
    for mine, theirs in [(sim.pearson(x, y), stats.pearsonr(x, y)), (sim.spearman(x, y), stats.spearmanr(x, y))]:
        assert mine.statistic == pytest.approx(theirs[0], abs=1e-12)
        # near |r| = 1 the p-value moves fast with r's last bits
        assert mine.pvalue == pytest.approx(theirs[1], rel=1e-6, abs=1e-7)


def test_exports():
    assert embload.evaluate_word_analogies is sim.evaluate_word_analogies
    assert embload.evaluate_word_pairs is sim.evaluate_word_pairs


# --- progress and the command line ---------------------------------------------------------
class _RecordingBar:
    def __init__(self, total):
        self.total, self.done = total, 0

    def update(self, n=1):
        self.done += n

    def close(self):
        pass


def test_progress_reaches_every_question(sample, monkeypatch):
    bars = []

    def fake(progress, *, total=None, desc=None, unit="B"):
        bar = _RecordingBar(total)
        if progress:
            bars.append(bar)
        return bar

    monkeypatch.setattr(sim, "make_progress", fake)
    monkeypatch.setattr(sim, "ANALOGY_BATCH", 100)
    _, sections = sample.evaluate_word_analogies(questions(), progress=True)
    asked = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    assert len(bars) == 1  # one bar over the questions, none for the passes inside
    assert bars[0].total == asked == bars[0].done > 100


def run_cli(capsys, *argv):
    from embload.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_similar_matches_gensim(capsys, sample_kv):
    code, out, err = run_cli(capsys, "similar", SAMPLE, "said", "police", "--topn", "4")
    assert code == 0, err
    blocks = out.strip().split("\n\n")
    for block, word in zip(blocks, ["said", "police"]):
        lines = block.splitlines()
        assert lines[0] == word
        assert [line.split()[1] for line in lines[1:]] == [w for w, _ in sample_kv.most_similar(word, topn=4)]
    code, out, _ = run_cli(capsys, "similar", SAMPLE, "said", "police", "--negative", "the", "--topn", "3")
    assert code == 0 and out.splitlines()[0] == "said + police - the"
    expect = sample_kv.most_similar(positive=["said", "police"], negative=["the"], topn=3)
    assert [line.split()[1] for line in out.splitlines()[1:]] == [w for w, _ in expect]


def test_cli_similar_unknown_word(capsys):
    code, out, err = run_cli(capsys, "similar", SAMPLE, "said", "no-such-word")
    assert code == 1
    assert "no-such-word\n  not in the vocabulary (4629 words)" in out and "'no-such-word'" in err
    code, _, err = run_cli(capsys, "similar", SAMPLE, "said", "--negative", "no-such-word")
    assert code == 1 and "not in the vocabulary of 4629 words: 'no-such-word'" in err


def test_cli_eval_matches_gensim(capsys, sample_kv):
    code, out, err = run_cli(capsys, "eval", SAMPLE, "--analogies", questions(), "--pairs", pair_sets()[0],
                             "--pairs", pair_sets()[1], "--sections", "--no-progress")
    assert code == 0, err
    score, sections = sample_kv.evaluate_word_analogies(questions())
    total = sections[-1]
    assert f"{score:.2%} ({len(total['correct'])}/{len(total['correct']) + len(total['incorrect'])} questions)" in out
    assert "gram6-nationality-adjective" in out
    for path in pair_sets():
        pearson, spearman, oov = sample_kv.evaluate_word_pairs(path)
        assert f"Pearson {pearson[0]:.4f}" in out and f"Spearman {spearman[0]:.4f}" in out
        assert f"unknown {oov:.1f}%" in out


def test_cli_eval_usage_and_missing_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "eval", SAMPLE)
    assert code == 2 and "--analogies FILE and/or --pairs FILE" in err
    code, _, err = run_cli(capsys, "eval", SAMPLE, "--pairs", str(tmp_path / "none.tsv"))
    assert code == 1 and "none.tsv: No such file or directory" in err


# --- fastText models: queries over the dictionary's words, subword vectors for other words ---
FASTTEXT_MODELS = ["lee_fasttext_new.bin", "crime-and-punishment.bin"]


@pytest.fixture(scope="module", params=FASTTEXT_MODELS)
def fasttext_pair(request):
    from embload.fasttext import load_fasttext
    load_facebook_vectors = pytest.importorskip("gensim.models.fasttext").load_facebook_vectors

    path = datapath(request.param)
    model, kv = load_fasttext(path), load_facebook_vectors(path)
    # gensim gives the end-of-sentence word "</s>" its n-grams always; fastText gives it
    # none from format version 12 on (Dictionary::initNgrams), so there its vector is its
    # own row of the input matrix. Put that row into gensim's table, so the rest is
    # compared against gensim's arithmetic.
    if "</s>" in kv.key_to_index and model.version is not None and model.version >= 12:
        eos = model.words.find("</s>")
        kv.vectors[kv.key_to_index["</s>"]] = model.matrix[eos]
        kv.fill_norms(force=True)
    return model, kv


def _fasttext_queries(model, kv):
    rng = np.random.default_rng(11)
    words = [model.words[int(i)] for i in rng.choice(len(model), 12, replace=False)]
    # outside the dictionary: gensim (and embload) take their subword vectors
    unknown = ["nightxz", "qwertyuiop", words[0] + "ish", "Zz"]
    assert not any(w in kv.key_to_index for w in unknown)
    return words, unknown


def test_fasttext_most_similar_matches_gensim(fasttext_pair):
    model, kv = fasttext_pair
    words, unknown = _fasttext_queries(model, kv)
    assert list(model.to_vectors().words) == kv.index_to_key
    for w in words + unknown:
        assert_same_answers(model.most_similar(w, topn=8), kv.most_similar(w, topn=8))
    calls = [dict(positive=[words[1], unknown[0]], negative=[words[2]]),
             dict(positive=[(words[3], 0.5), (unknown[1], 2.0)], negative=[unknown[2]], restrict_vocab=300),
             dict(positive=[kv[words[4]]], negative=[unknown[3]])]
    for kwargs in calls:
        assert_same_answers(model.most_similar(topn=10, **kwargs), kv.most_similar(topn=10, **kwargs))
    # an unknown word is no answer of its own query only because it is not a dictionary word;
    # a known one is left out
    assert words[5] not in [w for w, _ in model.most_similar(words[5], topn=len(model))]
    np.testing.assert_allclose(model.most_similar(unknown[0], topn=None),
                               kv.most_similar(unknown[0], topn=None), rtol=0, atol=TOL)
    vec = np.random.default_rng(4).standard_normal(model.dim).astype(np.float32)
    assert_same_answers(model.similar_by_vector(vec, topn=7), kv.similar_by_vector(vec, topn=7))


def test_fasttext_cosmul_similarity_doesnt_match_match_gensim(fasttext_pair):
    model, kv = fasttext_pair
    words, unknown = _fasttext_queries(model, kv)
    for pos, neg in [([words[0], words[1]], [words[2]]), ([unknown[0], words[3]], [unknown[1]]),
                     ([unknown[2]], [])]:
        assert_same_answers(model.most_similar_cosmul(pos, neg, topn=10),
                            kv.most_similar_cosmul(pos, neg, topn=10))
    for a, b in [(words[0], words[1]), (words[2], unknown[0]), (unknown[1], unknown[2]), (words[3], words[3])]:
        assert model.similarity(a, b) == pytest.approx(float(kv.similarity(a, b)), abs=TOL)
    for group in [words[:5], words[4:8] + unknown[:1], unknown + words[8:10]]:
        # any word counts (fastText has a vector for it): no warning, none left out
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert model.doesnt_match(group) == kv.doesnt_match(group)


def test_fasttext_batch_matches_gensims_loop(fasttext_pair):
    model, kv = fasttext_pair
    words, unknown = _fasttext_queries(model, kv)
    vec = kv[words[0]] * 3
    queries = words + unknown + [vec]
    for batch in (model.most_similar_batch(queries, topn=6),          # BLAS tiles (>= 16)
                  model.most_similar_batch(queries[:10], topn=6)):    # compiled scan
        assert len(batch) in (len(queries), 10)
        for q, answers in zip(queries, batch):
            assert_same_answers(answers, kv.most_similar(positive=[q], topn=6))
