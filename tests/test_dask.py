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
