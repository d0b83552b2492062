"""The Keras tokenizer on a Dask collection of texts: the same code on a laptop and a cluster.

``fit_tokenizer(texts, **options)`` builds the vocabulary of a ``dask.bag.Bag`` of
texts (or a ``dask.dataframe.Series``, through ``to_bag``): each partition is
counted by the C tokenizer on a worker, and the counts are merged in a tree
reduction on the workers (``Bag.reduction`` with ``split_every``). A merge
keeps the earlier partition's words first and adds the later one's new words in
their order, which is exactly the first-seen order of one pass over all texts:
the tokenizer is identical (``word_index``, ``word_counts``, ``word_docs``,
``index_docs``, ``document_count``, ``to_json()``) to
``Tokenizer(**options).fit_on_texts(all texts in order)`` for any partitioning.
Only counts travel: the client and scheduler hold the vocabulary, never the
corpus.

``texts_to_sequences(texts, tokenizer, maxlen=...)`` turns the texts into a Dask
array of padded sequences (or, without ``maxlen``, a bag of lists). The
tokenizer is one key of the task graph that every task depends on: each worker
receives it once, not once per task.

``embedding_lookup(sequences, cache)`` gathers the rows of an aligned matrix for
a Dask array of word indices. The matrix is never in the task graph: the graph
holds the cache's path, and each worker process opens the ``.embload`` cache once
(``embload.load``, memory-mapped, kept in ``_OPEN_CACHES``) and copies the rows its
chunk needs. A matrix of any size costs the graph a few bytes per task, and the
workers share the file's pages through the page cache.

Dask is the engine: this module only supplies the per-partition work and the
merge. Install with ``pip install embload[dask]``.
"""

import os
import threading

import numpy as np

from . import _text
from ._threads import resolve_threads
from .text import Tokenizer, pad_sequences, texts_to_padded

__all__ = ["embedding_lookup", "fit_tokenizer", "texts_to_sequences"]


def _as_bag(texts):
    import dask.bag as db

    if isinstance(texts, db.Bag):
        return texts
    if hasattr(texts, "to_bag"):  # a dask.dataframe.Series of texts
        return texts.to_bag(index=False)
    raise TypeError(
        f"texts must be a dask.bag.Bag or a dask.dataframe.Series, not {type(texts).__name__}; "
        "for a list in memory use Tokenizer().fit_on_texts"
    )


class _Counts:
    """The counts of consecutive partitions (picklable, vocabulary-sized).

    ``words`` in first-seen order with their ``counts``, ``docs`` (documents
    containing them) and ``first_doc`` (where first seen, counted from the first
    of these partitions); ``records``: ``(document, its distinct words)`` for the
    documents that brought two or more new words, from which the client rebuilds
    Keras' word_docs order with its own string hashing (a worker's set() order
    differs: every process salts str hashes differently).
    """

    __slots__ = ("words", "counts", "docs", "first_doc", "records", "documents")

    def __init__(self, words, counts, docs, first_doc, records, documents):
        self.words = words
        self.counts = counts
        self.docs = docs
        self.first_doc = first_doc
        self.records = records
        self.documents = documents

    def __reduce__(self):
        return (_Counts, tuple(getattr(self, k) for k in self.__slots__))


def _count_partition(texts, options, threads):
    tokenizer = Tokenizer(**options)
    texts = list(texts)
    c_options = tokenizer._c_options()
    docs = _text.gather(texts) if c_options is not None else None
    if docs is None:  # an analyzer, or documents the C path does not take
        return _python_counts(tokenizer._tokenize_fn(), texts)
    counter = _text.Counter(c_options, resolve_threads(threads))
    counter.add(docs)
    words, counts, ndocs, first_doc, records, documents = counter.result()
    return _Counts(words, counts.tolist(), ndocs.tolist(), first_doc.tolist(),
                   _records_as_words(records, words), documents)


def _records_as_words(flat, words):
    out, p, flat = [], 0, flat.tolist()
    while p < len(flat):
        doc, k = flat[p], flat[p + 1]
        out.append((doc, [words[r] for r in flat[p + 2 : p + 2 + k]]))
        p += 2 + k
    return out


def _records_flat(records, index):
    flat = []
    for doc, members in records:
        flat += [doc, len(members)] + [index[w] for w in members]
    return np.asarray(flat, dtype=np.int64)


def _python_counts(tokens, texts):
    index, words, counts, docs, first_doc, records = {}, [], [], [], [], []
    for doc, text in enumerate(texts):
        distinct = dict.fromkeys(tokens(text))  # first-occurrence order
        fresh = 0
        for word in distinct:
            if word not in index:
                index[word] = len(words)
                words.append(word)
                counts.append(0)
                docs.append(0)
                first_doc.append(doc)
                fresh += 1
            docs[index[word]] += 1
        for word in tokens(text):
            counts[index[word]] += 1
        if fresh >= 2:
            records.append((doc, list(distinct)))
    return _Counts(words, counts, docs, first_doc, records, len(texts))


def _merge(parts):
    """Counts of partitions given in partition order -> their counts as one."""
    parts = list(parts)
    if not parts:
        return _Counts([], [], [], [], [], 0)
    first = parts[0]
    words, counts, docs = list(first.words), list(first.counts), list(first.docs)
    first_doc, records, documents = list(first.first_doc), list(first.records), first.documents
    index = {w: i for i, w in enumerate(words)}
    for part in parts[1:]:
        offset = documents
        # words already seen keep their place; new ones follow in the later order
        for w, c, d, f in zip(part.words, part.counts, part.docs, part.first_doc):
            i = index.get(w)
            if i is None:
                index[w] = len(words)
                words.append(w)
                counts.append(c)
                docs.append(d)
                first_doc.append(f + offset)
            else:
                counts[i] += c
                docs[i] += d
        for doc, members in part.records:
            doc += offset
            if sum(first_doc[index[w]] == doc for w in members) >= 2:
                records.append((doc, members))
        documents += part.documents
    return _Counts(words, counts, docs, first_doc, records, documents)


def fit_tokenizer(texts, *, split_every=None, threads=1, **tokenizer_options):
    """A ``Tokenizer`` fitted on every text of a Dask collection, in order.

    Parameters
    ----------
    texts : dask.bag.Bag or dask.dataframe.Series
        Strings (or lists of tokens), as for ``Tokenizer.fit_on_texts``.
    split_every : int, optional
        Partitions merged per task of the tree reduction (Dask's default: 8).
    threads : int or None
        Threads per partition task (1: Dask's workers are the parallelism).
    **tokenizer_options
        ``num_words``, ``filters``, ``lower``, ``split``, ``char_level``,
        ``oov_token``: as for ``Tokenizer``.

    Returns
    -------
    Tokenizer
        Identical to ``Tokenizer(**tokenizer_options).fit_on_texts(texts in order)``.
    """
    tokenizer = Tokenizer(**tokenizer_options)  # options checked here, before any work
    bag = _as_bag(texts)
    counts = bag.reduction(
        _PartitionCounter(tokenizer_options, threads), _merge, split_every=split_every
    ).compute()
    words = counts.words
    index = {w: i for i, w in enumerate(words)}
    order = _text.word_docs_order(
        words, np.asarray(counts.first_doc, dtype=np.int64), _records_flat(counts.records, index)
    ).tolist()
    tokenizer.word_counts.update(zip(words, counts.counts))
    tokenizer.word_docs.update([(words[i], counts.docs[i]) for i in order])
    tokenizer.document_count += counts.documents
    tokenizer._renumber()
    return tokenizer


class _PartitionCounter:
    """perpartition of the reduction: a picklable callable carrying the options."""

    def __init__(self, options, threads):
        self.options = options
        self.threads = threads

    def __call__(self, texts):
        return _count_partition(texts, self.options, self.threads)


def _shared(obj):
    """``obj`` as one key of the graph that every task names: it is pickled into the
    graph once and each worker fetches it once, not once per task."""
    import dask

    return dask.delayed(obj, pure=True)


def _sequences(texts, tokenizer, threads):
    return tokenizer.texts_to_sequences(list(texts), threads=threads)


def _padded(texts, tokenizer, threads, pad_options):
    return texts_to_padded(tokenizer, texts, pad_options, threads)


def _length(texts):
    return [sum(1 for _ in texts)]


def texts_to_sequences(
    texts,
    tokenizer,
    maxlen=None,
    *,
    dtype="int32",
    padding="pre",
    truncating="pre",
    value=0,
    threads=1,
):
    """Word-index sequences of a Dask collection of texts.

    Parameters
    ----------
    texts : dask.bag.Bag or dask.dataframe.Series
    tokenizer : Tokenizer
        A fitted tokenizer (from ``fit_tokenizer`` or anywhere); sent to each
        worker once.
    maxlen : int, optional
        Given: a ``dask.array.Array`` of shape ``(documents, maxlen)``, padded
        and cut as ``pad_sequences(..., maxlen=maxlen, dtype=, padding=,
        truncating=, value=)`` would, one chunk per partition with known sizes
        (the documents per partition are counted first, one cheap pass).
        None: a ``dask.bag.Bag`` of lists, as ``Tokenizer.texts_to_sequences``.
    threads : int or None
        Threads per task.

    Returns
    -------
    dask.array.Array or dask.bag.Bag
    """
    import dask
    import dask.bag as db

    bag = _as_bag(texts)
    shared = _shared(tokenizer)
    parts = bag.to_delayed()
    if maxlen is None:
        return db.from_delayed([dask.delayed(_sequences)(p, shared, threads) for p in parts])
    import dask.array as da
    import numpy as np

    if isinstance(maxlen, bool) or int(maxlen) != maxlen or maxlen < 0:
        raise ValueError(f"maxlen must be an int >= 0 or None, got {maxlen!r}")
    maxlen = int(maxlen)
    pad_options = dict(maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating, value=value)
    pad_sequences([[]], **pad_options)  # check the options here, not on a worker
    sizes = bag.map_partitions(_length).compute()
    blocks = [
        da.from_delayed(
            dask.delayed(_padded)(p, shared, threads, pad_options),
            shape=(n, maxlen),
            dtype=np.dtype(dtype),
        )
        for p, n in zip(parts, sizes)
    ]
    if not blocks:
        return da.zeros((0, maxlen), dtype=dtype)
    return da.concatenate(blocks, axis=0)


# ------------------------------------------------------------ rows from the cache
# Each process opens a cache once: path -> (mtime_ns, size of matrix.npy, matrix).
# A cache rewritten in place (atomically: a new folder renamed over the old one)
# has a new matrix.npy, seen by its stat, and is opened again.
_OPEN_CACHES = {}
_OPEN_LOCK = threading.Lock()


def _cache_matrix(path):
    """The memory-mapped matrix of the ``.embload`` cache at ``path``, opened once per process."""
    from .cache import is_cache
    from .read import load

    if not is_cache(path):
        raise ValueError(f"{path}: not an .embload cache folder (embedding_lookup reads one, "
                         "written with embload.save((row_names, matrix), 'x.embload'))")
    try:
        st = os.stat(os.path.join(path, "matrix.npy"))
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        stamp = None  # a damaged cache: load() says what is wrong with it
    with _OPEN_LOCK:
        got = _OPEN_CACHES.get(path)
        if got is not None and stamp is not None and got[0] == stamp:
            return got[1]
        matrix = load(path, mmap=True).vectors
        _OPEN_CACHES[path] = (stamp, matrix)
        return matrix


def _gather_rows(block, path, dtype):
    matrix = _cache_matrix(path)
    ids = np.asarray(block)
    if ids.size and (ids.min() < 0 or ids.max() >= matrix.shape[0]):
        bad = ids.ravel()[(ids.ravel() < 0) | (ids.ravel() >= matrix.shape[0])][0]
        raise IndexError(f"{path}: index {int(bad)} is out of range for a matrix of "
                         f"{matrix.shape[0]} rows")
    return np.take(matrix, ids, axis=0).astype(dtype, copy=False)


def embedding_lookup(sequences, cache, *, dtype=None):
    """The rows of the matrix in the ``.embload`` cache ``cache`` for each index of ``sequences``.

    Parameters
    ----------
    sequences : dask.array.Array of int, shape ``(documents, maxlen)``
        Word indices, e.g. from ``texts_to_sequences(..., maxlen=)``; any shape.
    cache : str or os.PathLike
        An ``.embload`` cache folder whose row ``i`` is the vector of index ``i``:
        an aligned matrix saved with
        ``embload.save((row_names, aligned.matrix), "aligned.embload")``. The path
        must be readable by every worker (a shared file system on a cluster).
    dtype : numpy dtype, optional
        Of the result; default the cache's.

    Returns
    -------
    dask.array.Array of shape ``sequences.shape + (dim,)``, chunked like
    ``sequences`` along its axes and whole along ``dim``. Equal to
    ``numpy.take(matrix, sequences, axis=0)``; the graph carries only the path.
    """
    import dask.array as da

    path = os.path.abspath(os.fspath(cache))
    matrix = _cache_matrix(path)  # checked here: a bad path fails now, not on a worker
    if not isinstance(sequences, da.Array):
        raise TypeError(f"sequences must be a dask.array.Array, not {type(sequences).__name__}")
    if sequences.dtype.kind not in "iu":
        raise TypeError(f"sequences must hold integers, not {sequences.dtype}")
    dtype = matrix.dtype if dtype is None else np.dtype(dtype)
    dim = matrix.shape[1]
    return sequences.map_blocks(
        _gather_rows, path, dtype,
        new_axis=sequences.ndim, chunks=sequences.chunks + ((dim,),), dtype=dtype,
        meta=np.empty((0,) * (sequences.ndim + 1), dtype=dtype),
    )
