"""Similarity queries and the standard evaluations, over :class:`~embload.Vectors`.

The semantics are gensim's ``KeyedVectors`` (``most_similar``, ``most_similar_cosmul``,
``similarity``, ``similar_by_vector``, ``doesnt_match``, ``evaluate_word_analogies``,
``evaluate_word_pairs``), computed without what makes them slow and large there:

* The row norms are computed once (one float per row, summed in double) and kept on the
  ``Vectors`` object; the matrix is never normalised into a copy. A score is
  ``dot(row, query) / norm(row)``, as gensim computes it.
* A query (up to 15 of them) is one pass of a compiled scan over the table
  (:mod:`embload._similarity`, dot products in ``src/simdot.h``): parts of the rows taken
  by the threads as they come free, a bounded heap per query and part, a float16 row
  widened as it is read (AVX-512, AVX2 or portable C as the CPU allows), a row rejected
  by one multiply and compare against the worst score kept before any division. Nothing the size of the table,
  not even its scores, is allocated. Every sum is in a fixed order: a score is the same
  bits whatever the thread count or the dtype of the table.
* A larger batch is scored a tile of rows at a time by NumPy's BLAS (one matrix product of
  all the queries with the tile, GIL released), then selected from by the same compiled
  heaps, on a thread of their own while BLAS scores the next tile; a float16 tile is
  first converted into one reused float32 buffer. Measured
  faster than the compiled scan's 4 x 4 blocks (see BLAS_MIN_QUERIES). The tiles have the
  same shape for every dtype, so a float16 table still gives the float32 table's bits;
  BLAS sums in its own order, so a batch's scores may differ from one query's in the last
  bit (the same words, unless two scores tie to that bit).
* Extra memory: the heaps, two scores tiles of at most SCORE_TILE_BYTES and a float16 tile of
  at most CONVERT_TILE_BYTES, far under MAX_EXTRA_BYTES whatever the table's size.
* Values are float32 (float64 for a float64 table) whatever the stored dtype, so a float16
  table gives the answers of the float32 table holding the same values.

Order of answers: a higher score first; equal scores, the lower row (the earlier word in
the file) first. gensim leaves the order of exact ties to ``np.argpartition``/``np.argsort``.
A word whose vector is zero has no direction: it is its own unit vector (as gensim's
``matutils.unitvec`` leaves it), so its cosine with anything is 0 (gensim divides by its
zero norm and ranks the resulting NaN first). A NaN score (a vector with NaN or infinite
values) is never returned.

Results do not depend on ``threads``: each heap belongs to one thread and the merge sorts
by the total order above. ``most_similar_cosmul``, ``topn=None`` and the evaluations'
per-pair cosines use NumPy on tiles (their cost is not a top-k scan).

The standard test sets ship in gensim's test data (``gensim.test.utils.datapath``):
``questions-words.txt`` (Mikolov et al.'s 19,544 analogy questions), ``wordsim353.tsv``
and ``simlex999.txt`` (word pairs with human similarity scores).
"""

import collections
import concurrent.futures
import logging
import math

import numpy as np

from . import _similarity
from ._progress import make_progress
from ._threads import resolve_threads
from .errors import EmbeddingFormatError, warn

__all__ = [
    "row_norms", "most_similar", "most_similar_cosmul", "similar_by_vector", "similarity",
    "doesnt_match", "most_similar_batch", "evaluate_word_analogies", "evaluate_word_pairs",
    "Correlation", "pearson", "spearman",
]

logger = logging.getLogger(__name__)

# Extra memory: the compiled scan keeps only a heap of topn entries per query and part (for
# QUERY_CHUNK queries at a time); the NumPy/BLAS paths work on tiles of at most
# SCORE_TILE_BYTES of scores (two of them while one is selected from) and
# CONVERT_TILE_BYTES of float16 rows widened. Far below the promise of MAX_EXTRA_BYTES,
# whatever the table's size.
MAX_EXTRA_BYTES = 256 << 20
CONVERT_TILE_BYTES = 32 << 20
MIN_TILE_ROWS = 256
# Queries scored per pass over the table.
QUERY_CHUNK = 1024
# Rows of a scan's tile, which stays in cache while every query of the chunk passes over
# it (0: about 128 KiB of rows; a test setting, the answers are the same for any value).
SCAN_TILE_ROWS = 0
# From this many queries on, a batch is scored by NumPy's BLAS on tiles of rows (np.dot of
# the queries with a tile, GIL released) and then selected from by the compiled heaps;
# below, by the compiled scan. Measured on 2 cores, 1000 queries x 100,000 x 300: BLAS
# 1.4-1.7 s for the products alone, the compiled scan 3.3 s with its selection; for one
# query, memory-bound, the compiled scan matches a BLAS gemv without allocating scores.
BLAS_MIN_QUERIES = 16
# A BLAS tile's scores (queries x rows) take at most this much.
SCORE_TILE_BYTES = 32 << 20
# Threads selecting from one tile of scores, and whether that runs beside BLAS scoring the
# next tile (see _scan_top). Measured on 2 busy cores, 1000 queries x 300,000 x 300: the
# products alone 2.4-2.6 s; selecting on 2 threads after each product 0.9 s more (its
# threads fight BLAS's still-spinning ones), on 1 thread 0.5 s; beside the next product,
# CPU time 2.2-2.5 s for the whole batch against 2.5-3.0 s after each product.
SELECT_THREADS = 1
OVERLAP_SELECTION = True
# The rows of a scan are cut into this many parts per thread (at least MIN_PART_ROWS each).
PARTS_PER_THREAD = 4
MIN_PART_ROWS = 2048
LONE_PARTS_PER_THREAD = 8
# Analogy questions answered per pass over the table.
ANALOGY_BATCH = 1024
# gensim's guard against dividing by zero in 3CosMul (Levy & Goldberg's epsilon).
COSMUL_EPSILON = 0.000001

Correlation = collections.namedtuple("Correlation", ["statistic", "pvalue"])
Correlation.__doc__ = "A correlation coefficient and its two-sided p-value (indexable like scipy's result)."


# --- norms and value types -----------------------------------------------------------
def _compute_dtype(matrix):
    """float64 for a float64 table, float32 for float32 and float16 tables."""
    return np.dtype(np.float64) if matrix.dtype == np.float64 else np.dtype(np.float32)


def _check_table(vectors):
    matrix = vectors.vectors
    if matrix.dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(f"similarity queries need a float16, float32 or float64 table, not {matrix.dtype}")
    if not matrix.flags.c_contiguous:
        raise ValueError("similarity queries need a C-contiguous matrix (np.ascontiguousarray(v.vectors))")
    return matrix


def _tiles(matrix, tile_rows, stop):
    """(start, tile) over matrix[:stop], each tile float32/float64 and C-contiguous.

    A float16 tile is converted into one reused buffer: no full-size temporary.
    """
    cdt = _compute_dtype(matrix)
    buffer = None
    if matrix.dtype != cdt:
        buffer = np.empty((min(tile_rows, stop), matrix.shape[1]), dtype=cdt)
    for start in range(0, stop, tile_rows):
        end = min(stop, start + tile_rows)
        tile = matrix[start:end]
        if buffer is not None:
            converted = buffer[: end - start]
            np.copyto(converted, tile, casting="same_kind")
            tile = converted
        yield start, tile


def _convert_rows(matrix):
    """Rows per NumPy tile (norms, 3CosMul, every score), bounded by the float16 -> float32 buffer.

    The same for every dtype: BLAS may take another kernel (and so sum in another order) for
    another tile shape, and a float16 table must give the bits of the float32 table holding
    the same values.
    """
    return max(MIN_TILE_ROWS, CONVERT_TILE_BYTES // max(1, matrix.shape[1] * 4))


def row_norms(vectors, *, threads=None, force=False):
    """The Euclidean norm of every row (float32, float64 for a float64 table).

    Computed once (summed in double, rounded once) and kept on ``vectors``; ``force=True``
    computes them again (after the matrix was changed in place).
    """
    matrix = _check_table(vectors)
    cached = vectors._norms
    if cached is not None and cached[0] is matrix and not force:
        return cached[1]
    cdt = _compute_dtype(matrix)
    norms = np.empty(matrix.shape[0], dtype=cdt)
    nthreads = resolve_threads(threads)
    for start, tile in _tiles(matrix, _convert_rows(matrix), matrix.shape[0]):
        _similarity.row_norms(tile, norms[start:start + len(tile)], nthreads)
    norms.setflags(write=False)
    vectors._norms = (matrix, norms)
    return norms


def _unit(vector):
    """vector / |vector| in its own dtype; a zero vector is returned unchanged."""
    length = np.sqrt(np.dot(vector, vector))
    if length > 0:
        return (vector * (1.0 / length)).astype(vector.dtype, copy=False)
    return vector


def _unit_rows(vectors, rows):
    """The unit vectors of these rows (a zero row stays zero), in the compute dtype."""
    matrix = vectors.vectors
    cdt = _compute_dtype(matrix)
    norms = row_norms(vectors)[rows]
    safe = np.where(norms != 0, norms, 1).astype(cdt)
    return matrix[rows].astype(cdt, copy=False) / safe[:, None]


# --- the scan ---------------------------------------------------------------------------
def _restrict(vectors, restrict_vocab):
    """Rows searched: the first ``restrict_vocab`` (None or 0: all), as gensim."""
    n = len(vectors)
    if restrict_vocab is None or restrict_vocab is False or restrict_vocab == 0:
        return n
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)):
        raise TypeError(f"restrict_vocab must be an int or None, not {type(restrict_vocab).__name__}")
    if restrict_vocab < 0:
        raise ValueError(f"restrict_vocab must be >= 0, got {restrict_vocab}")
    return min(n, int(restrict_vocab))


def _check_topn(topn):
    if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)):
        raise TypeError(f"topn must be an int or None, not {type(topn).__name__}")
    return int(topn)


def _scan_top(vectors, queries, k, exclude, stop, threads, progress=False, desc=None):
    """Top-k rows of [0, stop) for each query by dot(row, query) / norm(row).

    queries: (nq, dim) in the compute dtype; exclude: (nq, E) int64 rows never returned
    (-1 pads). Returns rows (nq, min(k, stop)) int64 (-1 where fewer rows qualify) and
    scores.
    """
    matrix = vectors.vectors
    cdt = _compute_dtype(matrix)
    queries = np.ascontiguousarray(queries, dtype=cdt)
    exclude = np.ascontiguousarray(exclude, dtype=np.int64)
    nq = queries.shape[0]
    # no more answers than rows searched: a topn beyond the vocabulary (gensim allows any)
    # must not size the heaps, which are k entries per query and part
    k = min(k, stop)
    out_rows = np.full((nq, k), -1, dtype=np.int64)
    out_scores = np.full((nq, k), np.nan, dtype=cdt)
    if nq == 0 or k == 0 or stop == 0:
        return out_rows, out_scores
    norms = row_norms(vectors, threads=threads)
    nthreads = resolve_threads(threads)
    if nq < BLAS_MIN_QUERIES:
        _scan_compiled(matrix, queries, norms, k, exclude, stop, nthreads, out_rows, out_scores)
        return out_rows, out_scores
    bar = make_progress(progress, total=nq, desc=desc, unit="queries")
    # The selection from tile t runs on a thread of its own while BLAS scores tile t + 1
    # (both release the GIL): two score buffers, one tile selected at a time, in order, so
    # the heaps see the tiles in the same order as without the overlap.
    selector = concurrent.futures.ThreadPoolExecutor(1) if OVERLAP_SELECTION else None
    try:
        for q0 in range(0, nq, QUERY_CHUNK):
            chunk = queries[q0:q0 + QUERY_CHUNK]
            nqc = chunk.shape[0]
            # One heap per query, each query on one thread.
            heap_scores, heap_rows = _similarity.new_heaps(nqc, 1, k, cdt)
            tile_rows = max(MIN_TILE_ROWS, min(SCORE_TILE_BYTES // (nqc * cdt.itemsize),
                                               _convert_rows(matrix)))
            buffers = [np.empty(nqc * min(tile_rows, stop), dtype=cdt)
                       for _ in range(2 if selector is not None else 1)]
            pending = None
            for t, (start, tile) in enumerate(_tiles(matrix, tile_rows, stop)):
                scores = buffers[t % len(buffers)][: nqc * len(tile)].reshape(nqc, len(tile))
                np.dot(chunk, tile.T, out=scores)
                if pending is not None:
                    pending.result()
                args = (scores, norms[start:start + len(tile)], start, heap_scores, heap_rows,
                        exclude[q0:q0 + nqc], SELECT_THREADS)
                if selector is None:
                    _similarity.topk_update(*args)
                else:
                    pending = selector.submit(_similarity.topk_update, *args)
            if pending is not None:
                pending.result()
            out_rows[q0:q0 + nqc], out_scores[q0:q0 + nqc] = _merge_heaps(heap_scores, heap_rows, k)
            bar.update(nqc)
    finally:
        bar.close()
        if selector is not None:
            selector.shutdown()
    return out_rows, out_scores


def _scan_compiled(matrix, queries, norms, k, exclude, stop, nthreads, out_rows, out_scores):
    """The compiled scan (_similarity.scan) for a few queries: no scores, no buffers."""
    cdt = queries.dtype
    for q0 in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[q0:q0 + QUERY_CHUNK]
        # one heap per query and part of the rows, a few parts per thread (taken as
        # threads come free, so a thread that lost its core on a busy machine holds up
        # less), none smaller than a few tiles
        per_thread = PARTS_PER_THREAD if len(chunk) >= 4 else LONE_PARTS_PER_THREAD
        parts = max(1, min(per_thread * nthreads, stop // MIN_PART_ROWS))
        heap_scores, heap_rows = _similarity.new_heaps(len(chunk), parts, k, cdt)
        _similarity.scan(matrix, chunk, norms, stop, heap_scores, heap_rows,
                         exclude[q0:q0 + QUERY_CHUNK], nthreads, SCAN_TILE_ROWS)
        out_rows[q0:q0 + len(chunk)], out_scores[q0:q0 + len(chunk)] = \
            _merge_heaps(heap_scores, heap_rows, k)


def _merge_heaps(heap_scores, heap_rows, k):
    """Each query's k best of its parts' heaps, best first (score desc, row asc)."""
    nq = heap_scores.shape[0]
    scores = heap_scores.reshape(nq, -1)
    rows = heap_rows.reshape(nq, -1)
    # by descending score, ties by ascending row (lexsort: the last key is the primary one)
    order = np.lexsort((rows, -scores), axis=-1)[:, :k]
    rows = np.take_along_axis(rows, order, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    empty = rows == np.iinfo(np.int64).max
    rows[empty] = -1
    scores[empty] = np.nan
    return rows, scores


def _scan_all(vectors, query, stop):
    """dot(row, query) / norm(row) for every row of [0, stop) (gensim's ``topn=None``)."""
    matrix = vectors.vectors
    cdt = _compute_dtype(matrix)
    norms = row_norms(vectors)
    out = np.empty(stop, dtype=cdt)
    for start, tile in _tiles(matrix, _convert_rows(matrix), stop):
        part = out[start:start + len(tile)]
        np.dot(tile, query, out=part)
        n = norms[start:start + len(tile)]
        np.divide(part, n, out=part, where=n != 0)
        part[n == 0] = 0
    return out


def _answers(vectors, rows, scores):
    words = vectors.words
    return [(words[int(r)], float(s)) for r, s in zip(rows, scores) if r >= 0]


# --- queries -----------------------------------------------------------------------------
def _as_list(items):
    if items is None:
        return []
    if isinstance(items, (str, bytes)) or (isinstance(items, np.ndarray) and items.ndim == 1):
        return [items]
    return list(items)  # a 2-D array: one term per row, as gensim


def _key_and_weight(item, default):
    if isinstance(item, (str, bytes, np.ndarray)):
        return item, default
    if isinstance(item, tuple) and len(item) == 2:
        return item[0], float(item[1])
    raise TypeError(f"a query term is a word (str), a vector (ndarray) or a (term, weight) pair, "
                    f"not {item!r}")


def _as_query_vector(vectors, vector):
    cdt = _compute_dtype(vectors.vectors)
    vector = np.asarray(vector)
    if vector.shape != (vectors.dim,):
        raise ValueError(f"a query vector must have shape ({vectors.dim},), got {vector.shape}")
    return vector.astype(cdt, copy=False)


def _word_units(vectors, words, oov=None):
    """The unit vectors of ``words`` (a zero vector stays zero) in the compute dtype, and the
    row of each (-1 for a word outside ``vectors``, whose vector ``oov(word)`` gives, as a
    fastText model's subword vector; without ``oov`` such a word raises KeyError)."""
    for w in words:
        if isinstance(w, bytes):
            # not decoded here: which encoding is the caller's to say
            raise TypeError(f"a word is a str, not bytes: {w[:100]!r} (decode it first)")
    rows = np.asarray([vectors.index(w) if oov is None or w in vectors else -1 for w in words],
                      dtype=np.int64)
    known = rows >= 0
    cdt = _compute_dtype(vectors.vectors)
    if known.all():
        return _unit_rows(vectors, rows), rows
    units = np.empty((len(words), vectors.dim), dtype=cdt)
    if known.any():
        units[known] = _unit_rows(vectors, rows[known])
    for i in np.flatnonzero(~known):
        units[i] = _unit(np.asarray(oov(words[i]), dtype=cdt))
    return units, rows


def _mean_query(vectors, positive, negative, oov=None):
    """gensim's query: the weighted mean of the terms' unit vectors (raw vectors as given),
    itself made a unit vector; and the rows of the word terms in ``vectors`` (excluded
    from answers; a word given a vector by ``oov`` is not, as in gensim)."""
    terms = ([_key_and_weight(item, 1.0) for item in _as_list(positive)]
             + [_key_and_weight(item, -1.0) for item in _as_list(negative)])
    if not terms:
        raise ValueError("cannot compute similarity with no input (give positive and/or negative terms)")
    cdt = _compute_dtype(vectors.vectors)
    mean = np.zeros(vectors.dim, dtype=cdt)
    total = 0.0
    rows = []
    for key, weight in terms:
        w = cdt.type(weight)
        if isinstance(key, np.ndarray):
            mean += w * _as_query_vector(vectors, key)
        else:
            unit, row = _word_units(vectors, [key], oov)
            if row[0] >= 0:
                rows.append(int(row[0]))
            mean += w * unit[0]
        total += abs(float(w))
    if total > 0:
        mean = (mean / total).astype(cdt, copy=False)
    if not np.isfinite(mean).all():
        # every score would be NaN, and a NaN never enters a top-k: the answer would be an
        # empty list that looks like "nothing similar"
        raise ValueError(f"the query is not finite (a term's vector holds NaN or inf): "
                         f"{[key if isinstance(key, str) else 'a vector' for key, _ in terms]}")
    return _unit(mean), rows


def most_similar(vectors, positive=None, negative=None, topn=10, restrict_vocab=None, *, threads=None,
                 oov=None):
    """The ``topn`` words nearest (by cosine) to the mean of the positive terms minus the negative.

    As gensim's ``KeyedVectors.most_similar``: each term is a word, a vector, or a
    ``(term, weight)`` pair (default weight 1 for positive, -1 for negative); the query is
    the weighted mean of the words' unit vectors (vectors are taken as given), divided by
    the sum of the absolute weights, made a unit vector. The words given are never
    answers. ``restrict_vocab=N`` searches the first N rows only.

    Returns a list of ``(word, cosine)``, best first; ``topn=None`` returns the cosine of
    every (searched) row as an array. An unknown word raises ``KeyError``, unless ``oov``
    (a callable, ``word -> vector``; a fastText model passes its subword vectors) gives it
    a vector: its unit vector enters the mean, and it is not excluded from the answers
    (gensim's ``FastTextKeyedVectors``). Every function here takes ``oov`` likewise.
    """
    if topn is not None and _check_topn(topn) < 1:
        return []
    _check_table(vectors)
    query, rows = _mean_query(vectors, positive, negative, oov)
    stop = _restrict(vectors, restrict_vocab)
    if topn is None:
        return _scan_all(vectors, query, stop)
    exclude = np.asarray([rows], dtype=np.int64).reshape(1, len(rows))
    best, scores = _scan_top(vectors, query[None, :], int(topn), exclude, stop, threads)
    return _answers(vectors, best[0], scores[0])


def similar_by_vector(vectors, vector, topn=10, restrict_vocab=None, *, threads=None):
    """The ``topn`` words nearest (by cosine) to ``vector``; gensim's ``similar_by_vector``."""
    return most_similar(vectors, positive=[np.asarray(vector)], topn=topn,
                        restrict_vocab=restrict_vocab, threads=threads)


def most_similar_cosmul(vectors, positive=None, negative=None, topn=10, restrict_vocab=None,
                        *, threads=None, oov=None):
    """Levy and Goldberg's 3CosMul: the words maximising
    ``prod((1 + cos(w, p)) / 2 for p in positive) / (prod((1 + cos(w, n)) / 2 for n in negative) + 1e-6)``.

    As gensim's ``most_similar_cosmul``: terms are words (their unit vectors) or vectors
    (taken as given); the words given are never answers; a row of zeros scores 0. Unlike
    gensim 4.4, which ignores it here, ``restrict_vocab=N`` searches the first N rows only.
    ``topn=None`` returns the score of every searched row.
    """
    if topn is not None and _check_topn(topn) < 1:
        return []
    matrix = _check_table(vectors)
    cdt = _compute_dtype(matrix)
    positive, negative = _as_list(positive), _as_list(negative)
    if not positive:
        raise ValueError("cannot compute similarity with no input (give at least one positive term)")
    exclude = []
    terms = []
    for key in positive + negative:
        if isinstance(key, np.ndarray):
            terms.append(_as_query_vector(vectors, key))
        elif isinstance(key, (str, bytes)):
            unit, row = _word_units(vectors, [key], oov)
            if row[0] >= 0:
                exclude.append(int(row[0]))
            terms.append(unit[0])
        else:
            raise TypeError(f"a 3CosMul term is a word (str) or a vector (ndarray), not {key!r}")
    terms = np.ascontiguousarray(terms, dtype=cdt)
    npos = len(positive)
    stop = _restrict(vectors, restrict_vocab)
    norms = row_norms(vectors, threads=threads)
    k = stop if topn is None else min(int(topn), stop)   # no heap larger than the rows searched
    everything = np.empty(stop, dtype=cdt) if topn is None else None
    heap_scores, heap_rows = _similarity.new_heaps(1, 1, k if topn is not None else 0, cdt)
    exclude_rows = np.asarray(sorted(set(exclude)), dtype=np.int64).reshape(1, -1)
    tile_rows = max(MIN_TILE_ROWS, CONVERT_TILE_BYTES // (max(1, len(terms)) * cdt.itemsize * 4))
    tile_rows = min(tile_rows, _convert_rows(matrix))
    for start, tile in _tiles(matrix, tile_rows, stop):
        n = norms[start:start + len(tile)]
        cosines = np.dot(terms, tile.T)
        np.divide(cosines, n, out=cosines, where=n != 0)
        cosines[:, n == 0] = 0
        shifted = (1 + cosines) / 2
        score = np.prod(shifted[:npos], axis=0) / (np.prod(shifted[npos:], axis=0) + cdt.type(COSMUL_EPSILON))
        # a row of zeros has no direction: cosine 0 with every term would make it
        # 0.5^p / (0.5^n + eps), near the top with a negative term; it scores 3CosMul's
        # least, 0, instead (gensim gives NaN, which sorts last)
        score[n == 0] = 0
        score = np.ascontiguousarray(score, dtype=cdt)
        if everything is not None:
            everything[start:start + len(tile)] = score
        else:
            _similarity.topk_update(score[None, :], None, start, heap_scores, heap_rows,
                                    exclude_rows, 1)
    if everything is not None:
        return everything
    rows, scores = _merge_heaps(heap_scores, heap_rows, k)
    return _answers(vectors, rows[0], scores[0])


def similarity(vectors, w1, w2, *, oov=None):
    """Cosine similarity of two words (gensim's ``similarity``)."""
    _check_table(vectors)
    (a, b), _ = _word_units(vectors, [w1, w2], oov)
    return float(np.dot(a, b))


def doesnt_match(vectors, words, *, oov=None):
    """The word of ``words`` furthest from the mean of their unit vectors (gensim's
    ``doesnt_match``). Unknown words are left out with a warning; ties go to the word that
    sorts first."""
    _check_table(vectors)
    words = _as_list(words)
    used = words if oov is not None else [w for w in words if w in vectors]
    if len(used) != len(words):
        warn(f"vectors for words {sorted(set(words) - set(used))} are not present, "
             f"ignoring these words")
    if not used:
        raise ValueError("cannot select a word from an empty list")
    units, _ = _word_units(vectors, used, oov)
    mean = _unit((units.sum(axis=0) / len(used)).astype(units.dtype, copy=False))
    cosines = units @ mean
    return min(zip(cosines.tolist(), used))[1]


def most_similar_batch(vectors, queries, topn=10, restrict_vocab=None, *, threads=None, progress=None,
                       oov=None):
    """``most_similar`` for many queries in one pass over the table.

    Each query is a word (its unit vector; the word itself is not an answer) or a vector.
    Returns one list of ``(word, cosine)`` per query, equal to
    ``[most_similar(vectors, positive=[q], topn=topn) for q in queries]``.
    """
    topn = _check_topn(topn)
    matrix = _check_table(vectors)
    queries = list(queries) if not isinstance(queries, np.ndarray) else queries
    if isinstance(queries, np.ndarray) and queries.ndim == 1:
        raise ValueError("queries is a sequence of words or vectors, or a 2-D array of vectors")
    if topn < 1:
        return [[] for _ in range(len(queries))]
    cdt = _compute_dtype(matrix)
    q = np.empty((len(queries), vectors.dim), dtype=cdt)
    exclude = np.full((len(queries), 1), -1, dtype=np.int64)
    for i, item in enumerate(queries):
        # the query most_similar(positive=[item]) makes, to the bit
        q[i], rows = _mean_query(vectors, [item] if isinstance(item, (str, bytes)) else [np.asarray(item)], None,
                                 oov)
        if rows:
            exclude[i, 0] = rows[0]
    stop = _restrict(vectors, restrict_vocab)
    rows, scores = _scan_top(vectors, q, topn, exclude, stop, threads, progress=progress,
                             desc="most_similar")
    return [_answers(vectors, r, s) for r, s in zip(rows, scores)]


# --- evaluation ----------------------------------------------------------------------------
def _eval_rows(vectors, restrict_vocab):
    """The evaluations' known words are ``words[:restrict_vocab]``: None is all, 0 none."""
    if restrict_vocab is None:
        return len(vectors)
    return _restrict(vectors, restrict_vocab) if restrict_vocab else 0   # _restrict clips to the size


def _ok_vocab(vectors, restrict_vocab, case_insensitive):
    """{word: row} of the first ``restrict_vocab`` words; case-insensitively, each word
    upper-cased and mapped to its first (most frequent, in a sorted file) variant."""
    ok_vocab = {}
    for row, word in enumerate(vectors.words[: _eval_rows(vectors, restrict_vocab)]):
        ok_vocab.setdefault(word.upper() if case_insensitive else word, row)
    return ok_vocab


def _section_score(section):
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct, correct + incorrect)
    return score


def _read_analogies(path, case_insensitive):
    """Sections and questions of an analogy file, with line numbers of skipped lines."""
    sections = []
    skipped = []
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EmbeddingFormatError(f"not valid UTF-8 ({exc.reason})", path=path, line=line_no,
                                           text=raw) from exc
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            if not sections:
                raise EmbeddingFormatError("missing section header (': NAME') before this line",
                                           path=path, line=line_no, text=raw)
            fields = line.split()
            if len(fields) != 4:
                skipped.append((line_no, line))
                continue
            if case_insensitive:
                fields = [w.upper() for w in fields]
            sections[-1][1].append(tuple(fields))
    return sections, skipped


def _analogy_answer(vectors, answers, question, ok_vocab, case_insensitive):
    """gensim's pick among the top 5: the first that is not a, b or c (nor, case-insensitively,
    a case variant of them); when all are, the last one."""
    ignore = set(question[:3])
    guess = None
    for row in answers:
        if row < 0:
            break
        word = vectors.words[int(row)]
        guess = word.upper() if case_insensitive else word
        if guess in ok_vocab and guess not in ignore:
            break
    return guess


def evaluate_word_analogies(vectors, path, restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False, *, threads=None, progress=None):
    """Accuracy on an analogy test set (``a b c d``: a is to b as c is to d), as gensim.

    The file has ``: SECTION`` lines, then one question of four words per line (lines
    that do not have four words are skipped, with a warning naming the first). The answer
    to a question is the best of ``most_similar(positive=[b, c], negative=[a], topn=5,
    restrict_vocab=restrict_vocab)`` that is not a, b or c (case-insensitively: not a case
    variant of them); it is right when it is d. Questions with a word outside the first
    ``restrict_vocab`` words are skipped, or counted wrong with ``dummy4unknown=True``.
    With ``case_insensitive`` words are compared upper-cased, each taking the vector of its
    first case variant in the file.

    The questions are answered in batches of :data:`ANALOGY_BATCH`, each one pass over the
    table.

    Returns ``(score, sections)``: the overall accuracy and a list of
    ``{"section": name, "correct": [(a, b, c, d), ...], "incorrect": [...]}``, the last
    being ``"Total accuracy"`` (as gensim's).
    """
    _check_table(vectors)
    path = str(path)
    ok_vocab = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    stop = _eval_rows(vectors, restrict_vocab)
    sections, skipped = _read_analogies(path, case_insensitive)
    if skipped:
        line_no, text = skipped[0]
        warn(f"{path}: skipped {len(skipped)} line(s) that are not four words, the first "
             f"at line {line_no}: {text.strip()[:100]!r}")
    questions = sum(len(qs) for _, qs in sections)
    if questions == 0:
        raise ValueError(f"{path}: no analogy questions (four words per line) found")
    # The questions whose four words are known, in file order; the others are out of vocabulary.
    asked = [q for _, qs in sections for q in qs if all(w in ok_vocab for w in q)]
    right = np.zeros(len(asked), dtype=bool)
    cdt = _compute_dtype(vectors.vectors)
    bar = make_progress(progress, total=len(asked), desc="analogies", unit="questions")
    try:
        for b0 in range(0, len(asked), ANALOGY_BATCH):
            batch = asked[b0:b0 + ANALOGY_BATCH]
            rows = np.asarray([[ok_vocab[w] for w in q[:3]] for q in batch], dtype=np.int64)
            ua, ub, uc = (_unit_rows(vectors, rows[:, j]) for j in range(3))
            # gensim's query: the mean of b, c and -a (weights summing to 3), as a unit vector
            mean = ((ub + uc) - ua) / cdt.type(3.0)
            length = np.sqrt(np.einsum("ij,ij->i", mean, mean))
            scale = (1.0 / np.where(length > 0, length, 1)).astype(cdt)
            mean *= scale[:, None]
            best, _ = _scan_top(vectors, mean, 5, rows, stop, threads, progress=False)
            for i, (question, answers) in enumerate(zip(batch, best)):
                right[b0 + i] = _analogy_answer(vectors, answers, question, ok_vocab,
                                                case_insensitive) == question[3]
            bar.update(len(batch))
    finally:
        bar.close()
    results = []
    oov = 0
    position = 0
    for name, qs in sections:
        section = {"section": name, "correct": [], "incorrect": []}
        for question in qs:
            if position < len(asked) and asked[position] is question:
                section["correct" if right[position] else "incorrect"].append(question)
                position += 1
                continue
            oov += 1
            if dummy4unknown:
                section["incorrect"].append(question)
        _section_score(section)
        results.append(section)
    total = {
        "section": "Total accuracy",
        "correct": [q for s in results for q in s["correct"]],
        "incorrect": [q for s in results for q in s["incorrect"]],
    }
    logger.info("Quadruplets with out-of-vocabulary words: %.1f%%", 100.0 * oov / questions)
    score = _section_score(total)
    results.append(total)
    return score, results


def evaluate_word_pairs(vectors, path, delimiter="\t", restrict_vocab=300000, case_insensitive=True,
                        dummy4unknown=False, *, encoding="utf8"):
    """Correlation of the cosine similarities with human judgements, as gensim.

    Each line of ``path`` is ``word1<delimiter>word2<delimiter>score``; lines starting with
    ``#`` and blank lines are skipped; so are lines that do not split into three fields
    with a numeric score, with a warning naming the first. Bytes that are not valid
    ``encoding`` raise :class:`~embload.errors.EmbeddingFormatError` naming the line.
    A pair with a word outside the first ``restrict_vocab`` words is skipped, or scored 0
    with ``dummy4unknown=True``.

    Returns ``(pearson, spearman, oov_ratio)``: two :class:`Correlation` ``(statistic,
    pvalue)`` tuples and the percentage of pairs with an unknown word (of all pairs; with
    ``dummy4unknown``, of the pairs scored, which gensim also does).
    """
    _check_table(vectors)
    path = str(path)
    ok_vocab = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    gold = []
    pairs = []  # (position in gold, row a, row b)
    oov = 0
    skipped = []  # (line number, text) of lines that are not a pair and a score
    # Undecodable bytes are kept as surrogates (surrogateescape) so that the error below can
    # name the line: a strict decoder fails a whole buffer ahead of the line being read.
    with open(path, encoding=encoding, errors="surrogateescape") as handle:
        for line_no, line in enumerate(handle, start=1):
            try:
                line.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise EmbeddingFormatError(f"not valid {encoding}", path=path, line=line_no,
                                           text=line.encode(encoding, "surrogateescape")) from exc
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split(delimiter)
            if len(fields) != 3:
                skipped.append((line_no, line))
                continue
            a, b, score = (f.upper() for f in fields) if case_insensitive else fields
            try:
                score = float(score)
            except ValueError:
                skipped.append((line_no, line))
                continue
            if a not in ok_vocab or b not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    gold.append(score)
                continue
            pairs.append((len(gold), ok_vocab[a], ok_vocab[b]))
            gold.append(score)
    if skipped:
        line_no, text = skipped[0]
        warn(f"{path}: skipped {len(skipped)} line(s) that are not word1, word2 and a number "
             f"separated by {delimiter!r}, the first at line {line_no}: {text.strip()[:100]!r}")
    if not gold:
        raise ValueError(f"No valid similarity judgements found in {path}: either invalid format or "
                         f"all are out-of-vocabulary in {vectors!r}")
    cdt = _compute_dtype(vectors.vectors)
    model = np.zeros(len(gold), dtype=cdt)
    if pairs:
        where, rows_a, rows_b = (np.asarray(col, dtype=np.int64) for col in zip(*pairs))
        ua, ub = _unit_rows(vectors, rows_a), _unit_rows(vectors, rows_b)
        model[where] = np.einsum("ij,ij->i", ua, ub)
    gold = np.asarray(gold, dtype=np.float64)
    model = model.astype(np.float64)
    oov_ratio = float(oov) / (len(gold) if dummy4unknown else len(gold) + oov) * 100
    return pearson(gold, model), spearman(gold, model), oov_ratio


# --- correlation (NumPy only; scipy.stats is the reference in the tests) ---------------------
def pearson(x, y):
    """Pearson's r and its two-sided p-value (t-test with n - 2 degrees of freedom)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("pearson needs two 1-D arrays of the same length")
    n = len(x)
    if n < 2:
        raise ValueError("pearson needs at least 2 pairs")
    dx = x - x.mean()
    dy = y - y.mean()
    nx, ny = np.linalg.norm(dx), np.linalg.norm(dy)
    if nx == 0 or ny == 0:
        warn("an input is constant: the correlation coefficient is not defined")
        return Correlation(float("nan"), float("nan"))
    r = float(np.clip(np.dot(dx / nx, dy / ny), -1.0, 1.0))
    return Correlation(r, _two_sided_p(r, n))


def _ranks(x):
    """Ranks 1..n, ties sharing their average rank."""
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    average = (starts + ends + 1) / 2.0  # mean of the 1-based ranks start+1 .. end
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def spearman(x, y):
    """Spearman's rank correlation and its two-sided p-value (t-test, n - 2 degrees of freedom)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("spearman needs two 1-D arrays of the same length")
    return pearson(_ranks(x), _ranks(y))


def _two_sided_p(r, n):
    # t = r sqrt(df / (1 - r^2)) has Student's t distribution with df = n - 2; its two-sided
    # tail is the regularised incomplete beta I_{df / (df + t^2)}(df / 2, 1 / 2), and
    # df / (df + t^2) = 1 - r^2.
    df = n - 2
    if df <= 0:
        return 1.0
    return _betainc(df / 2.0, 0.5, max(0.0, 1.0 - r * r))


def _betainc(a, b, x):
    """Regularised incomplete beta I_x(a, b), by its continued fraction (modified Lentz)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    # the fraction converges fast for x < (a + 1) / (a + b + 2); else use I_x(a,b) = 1 - I_{1-x}(b,a)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a, b, x, tiny=1e-300, eps=1e-16, max_terms=10000):
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, max_terms):
        # even step
        num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c
        c = c if abs(c) > tiny else tiny
        f *= d * c
        # odd step
        num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        f *= step
        if abs(step - 1.0) < eps:
            break
    return f
