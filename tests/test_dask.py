"""embload.dask on a LocalCluster of two worker processes: equal to one process, any partitioning."""

import numpy as np
import pytest

db = pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")

from embload import dask as edask  # noqa: E402
from embload.text import Tokenizer, pad_sequences  # noqa: E402


def corpus():
    rng = np.random.default_rng(7)
    vocab = ["w%d" % i for i in range(60)] + ["Ab", "ab", "AB!", "é", "x,y", "ΟΔΟΣ", "İz", "Σίσυφος"]
    texts = [" ".join(rng.choice(vocab, size=rng.integers(0, 12))) for _ in range(300)]
    return texts + ["", "   ", "late newcomer words"]


def state(tok):
    return (
        list(tok.word_counts.items()),
        list(tok.word_docs.items()),
        list(tok.index_docs.items()),
        list(tok.word_index.items()),
        tok.document_count,
        tok.to_json(),
    )


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


OPTIONS = {"num_words": 30, "oov_token": "<OOV>"}


def test_fit_and_sequences_on_a_cluster(client):
    texts = corpus()
    reference = Tokenizer(**OPTIONS)
    reference.fit_on_texts(texts)
    expected = reference.texts_to_sequences(texts)
    for npartitions, split_every in [(1, None), (7, 2)]:
        bag = db.from_sequence(texts, npartitions=npartitions)
        tok = edask.fit_tokenizer(bag, split_every=split_every, **OPTIONS)
        assert state(tok) == state(reference), (npartitions, split_every)
        assert edask.texts_to_sequences(bag, tok).compute() == expected
        array = edask.texts_to_sequences(bag, tok, maxlen=6, padding="post")
        assert array.chunks[0] == tuple(bag.map_partitions(lambda p: [len(list(p))]).compute())
        np.testing.assert_array_equal(array.compute(), pad_sequences(expected, maxlen=6, padding="post"))


def test_tokenizer_is_in_the_graph_once():
    cloudpickle = pytest.importorskip("cloudpickle")
    tok = Tokenizer()
    tok.fit_on_texts(["w%d" % i for i in range(5000)])  # a tokenizer of some size
    bag = db.from_sequence(["w1 w2", "w3"] * 20, npartitions=20)
    one_copy = len(cloudpickle.dumps(tok))
    for out in (edask.texts_to_sequences(bag, tok, maxlen=4), edask.texts_to_sequences(bag, tok)):
        graph = dict(out.__dask_graph__())
        # one key holds it and the 20 tasks name that key: not 20 copies
        assert one_copy < len(cloudpickle.dumps(graph)) < 2 * one_copy


def test_without_a_cluster_any_partitioning():
    texts = corpus()
    reference = Tokenizer(char_level=True)
    reference.fit_on_texts(texts)
    for npartitions, split_every in ((1, None), (4, 3), (11, 2)):
        bag = db.from_sequence(texts, npartitions=npartitions)
        with __import__("dask").config.set(scheduler="sync"):
            tok = edask.fit_tokenizer(bag, split_every=split_every, char_level=True)
        assert state(tok) == state(reference)
        out = edask.texts_to_sequences(bag, tok, maxlen=0).compute(scheduler="sync")
        assert out.shape == (len(texts), 0)


def test_errors():
    with pytest.raises(TypeError, match="dask.bag.Bag or a dask.dataframe.Series"):
        edask.fit_tokenizer(["a list"])
    with pytest.raises(ValueError, match="num_words must be >= 0"):
        edask.fit_tokenizer(db.from_sequence(["a"]), num_words=-1)
    bag = db.from_sequence(["a b"])
    with pytest.raises(ValueError, match="maxlen must be an int"):
        edask.texts_to_sequences(bag, Tokenizer(), maxlen=True)
    with pytest.raises(ValueError, match="Padding type"):
        edask.texts_to_sequences(bag, Tokenizer(), maxlen=3, padding="middle")


def _aligned_cache(tmp_path, rows, dim, seed=0):
    import embload

    matrix = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    path = str(tmp_path / f"aligned{rows}.embload")
    embload.save((["<row%d>" % i for i in range(rows)], matrix), path)
    return path, matrix


def test_embedding_lookup_reads_the_cache_on_the_workers(client, tmp_path):
    texts = corpus()
    tok = edask.fit_tokenizer(db.from_sequence(texts, npartitions=3), **OPTIONS)
    sequences = edask.texts_to_sequences(db.from_sequence(texts, npartitions=3), tok, maxlen=6)
    path, matrix = _aligned_cache(tmp_path, len(tok.word_index) + 1, 12)
    out = edask.embedding_lookup(sequences, path)
    assert out.shape == sequences.shape + (12,) and out.dtype == np.float32
    # the independent reference: NumPy's take on the whole matrix in memory
    np.testing.assert_array_equal(out.compute(), np.take(matrix, sequences.compute(), axis=0))
    as64 = edask.embedding_lookup(sequences, path, dtype=np.float64).compute()
    np.testing.assert_array_equal(as64, matrix[sequences.compute()].astype(np.float64))


def test_embedding_lookup_keeps_the_matrix_out_of_the_graph(tmp_path):
    cloudpickle = pytest.importorskip("cloudpickle")
    da = pytest.importorskip("dask.array")
    ids = np.random.default_rng(3).integers(0, 100, size=(64, 5))
    sizes = []
    for rows in (100, 20_000):  # 8 KB and 1.6 MB of floats: the graph must not grow with them
        path, matrix = _aligned_cache(tmp_path, rows, 20, seed=rows)
        out = edask.embedding_lookup(da.from_array(ids, chunks=(8, 5)), path)
        sizes.append(len(cloudpickle.dumps(dict(out.__dask_graph__()))))
        np.testing.assert_array_equal(out.compute(scheduler="sync"), matrix[ids])
        # opened once per process, memory-mapped: the tasks share one mapping
        assert edask._cache_matrix(path) is edask._cache_matrix(path)
        assert isinstance(edask._cache_matrix(path).base, np.memmap) or isinstance(
            edask._cache_matrix(path), np.memmap)
    assert sizes[1] < sizes[0] + 1000 and sizes[1] < matrix.nbytes // 100


def test_embedding_lookup_errors(tmp_path):
    da = pytest.importorskip("dask.array")
    path, _ = _aligned_cache(tmp_path, 10, 4)
    ok = da.from_array(np.array([[1, 2]]), chunks=1)
    with pytest.raises(ValueError, match="not an .embload cache"):
        edask.embedding_lookup(ok, str(tmp_path))
    with pytest.raises(TypeError, match="dask.array.Array"):
        edask.embedding_lookup(np.array([[1]]), path)
    with pytest.raises(TypeError, match="integers"):
        edask.embedding_lookup(da.from_array(np.array([[1.0]])), path)
    with pytest.raises(IndexError, match="index 10 is out of range for a matrix of 10 rows"):
        edask.embedding_lookup(da.from_array(np.array([[1, 10]])), path).compute(scheduler="sync")
