"""Keras' tokenizer rules in C: fitting (counts) and look-ups (word indices), no GIL.

Data flow for one batch of documents:

1. gather (GIL): where each document's characters live - CPython's own 1/2/4-byte
   storage, no copy - into ``Docs``; a document that is neither a string nor a list
   of strings makes the caller take the Python path for that batch.
2. tokenize + count or look up (nogil, ``prange`` over threads, each thread a
   contiguous range of documents balanced by characters): ``src/tokenize.h``.
   Fitting: each thread counts into its own vocabulary, noting where each word was
   first seen (document, position). Look-up: each thread writes table ids into its
   own buffer, concatenated in thread order.
3. finish (GIL): fitting merges the thread vocabularies and orders words by first
   sighting, so the result does not depend on the thread count; look-ups become
   lists of the word_index's own value objects.

Lowercasing is Python's ``str.lower`` exactly: the tables are built from it at first
use (``_case_tables``).
"""

cimport cython
from cpython.object cimport PyObject
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t, uint32_t, uintptr_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset
from posix.time cimport CLOCK_THREAD_CPUTIME_ID, clock_gettime, timespec

import threading
from collections import defaultdict

import numpy as np


cdef extern from "Python.h":
    ctypedef Py_ssize_t Py_hash_t
    Py_hash_t PyObject_Hash(object o) except -1
    object PySet_New(PyObject *iterable)
    int PySet_Add(object s, object key) except -1
    void *PyUnicode_DATA(object o)
    int PyUnicode_KIND(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    int PyUnicode_IS_ASCII(object o)
    int PyUnicode_Check(object o)
    int PyList_CheckExact(object o)
    int PyList_Check(object o)
    int PyLong_Check(object o)
    int PyLong_CheckExact(object o)
    object PyUnicode_DecodeUTF8(const char *s, Py_ssize_t size, const char *errors)
    PyObject *PyList_New(Py_ssize_t n)
    void PyList_SET_ITEM(PyObject *lst, Py_ssize_t i, PyObject *o)
    PyObject *PyList_GET_ITEM(object lst, Py_ssize_t i)
    Py_ssize_t PyList_GET_SIZE(object lst)
    void Py_INCREF(PyObject *o)
    long long PyLong_AsLongLongAndOverflow(object o, int *overflow) except? -1


cdef inline double _thread_cpu() noexcept nogil:
    """CPU seconds of the calling thread: what each thread of a prange really worked,
    whatever else runs on the machine (wall time cannot tell on a loaded one)."""
    cdef timespec ts
    if clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts):
        return 0.0
    return ts.tv_sec + 1e-9 * ts.tv_nsec


# A thread gets at least this many characters of a batch: a parallel region costs
# more than tokenizing a few short documents (more still on a loaded machine).
cdef int64_t MIN_THREAD_CHARS = 1 << 16


def _set_min_thread_chars(int64_t n):
    """Set the least work per thread; returns the old value (tests use 1 to split tiny batches)."""
    global MIN_THREAD_CHARS
    old = MIN_THREAD_CHARS
    MIN_THREAD_CHARS = max(1, n)
    return old


# The ASCII path classifies 64 or 32 bytes at a time where the CPU can (tokenize.h);
# tests force each level to check all paths give the same tokens.
SIMD_LEVEL = el_cpu_simd()
cdef int _SIMD = SIMD_LEVEL


def _set_simd_level(int level):
    """The SIMD the tokenizer uses (0: none; 1: AVX2, classifying ASCII 32 bytes at a time;
    2: AVX-512BW and DQ, classifying 64 bytes at a time and keying and hashing 8 tokens at
    a time; never above what the CPU has) for Options made after the call; returns the old
    level."""
    global _SIMD
    old = _SIMD
    _SIMD = min(max(level, 0), SIMD_LEVEL)
    return old


# Text in 1- or 2-byte storage goes through one table of the BMP (tokenize.h,
# el_tokopts.bmp) when the options allow; tests turn it off to compare both paths.
_BMP = True


def _set_bmp(bint on):
    """Use the BMP table for Options made from now on (True) or not; returns the old setting."""
    global _BMP
    old = _BMP
    _BMP = on
    return old


class NotSupported(Exception):
    """These options or documents are for the Python path (rare: odd types)."""


# ------------------------------------------------------------------ case tables
cdef el_case CASES
cdef object _case_arrays = None
_case_lock = threading.Lock()


# Unicode versions whose code points from U+20000 on are all "other" for the sigma
# rule, except U+E0000..U+E0FFF (tags, variation selectors): planes 2-3 hold CJK
# ideographs, 4-13 nothing, 15-16 private use. Other versions probe everything.
_CHECKED_UNICODE = {"13.0.0", "14.0.0", "15.0.0", "15.1.0", "16.0.0"}


@cython.wraparound(True)
def _case_tables(full=None):
    """The lowercase map and the Final_Sigma classes of every code point, from str.lower.

    Returns ``(lower, classes, expansions)``: ``lower[cp]`` the one-code-point
    lowercase (``EL_LOWER_EXPANDS`` where it is longer), ``classes[cp]`` one of
    other/cased/case-ignorable as str.lower's sigma rule sees them, and rows
    ``cp, c1, c2, c3`` for the longer lowercases. Built by asking the running
    Python's str.lower about the code points at once, so both always agree.
    ``full``: probe every code point for the classes (default: only where the
    Unicode version can have such characters, see _CHECKED_UNICODE).
    """
    import unicodedata

    n = 0x110000
    cps = np.arange(n, dtype=np.uint32)
    lower = cps.copy()
    expansions = []
    step = 2048  # a divisor of 0xD800: the surrogates are whole chunks
    for start in range(0, n, step):
        if 0xD800 <= start < 0xE000:
            continue  # surrogates: no case
        chunk = cps[start:start + step].tobytes().decode("utf-32-le")
        low = chunk.lower()
        if len(low) == len(chunk):
            lower[start:start + step] = np.frombuffer(low.encode("utf-32-le"), dtype=np.uint32)
            continue
        for cp in range(start, min(start + step, n)):
            one = chr(cp).lower()
            if len(one) == 1:
                lower[cp] = ord(one)
            else:
                if len(one) > 3:  # pragma: no cover - no such character in Unicode 16
                    raise RuntimeError(f"lowercase of U+{cp:04X} is {len(one)} code points")
                lower[cp] = EL_LOWER_EXPANDS
                expansions.append([cp] + [ord(c) for c in one] + [0] * (3 - len(one)))
    lower[0x3A3] = 0x3C3  # context-dependent: decided in C (el_final_sigma)
    expanding = lower == EL_LOWER_EXPANDS
    if full is None:
        full = unicodedata.unidata_version not in _CHECKED_UNICODE
    probed = np.ones(n, dtype=bool) if full else (cps < 0x20000) | ((cps >= 0xE0000) & (cps < 0xE1000))
    probed[0xD800:0xE000] = False
    probed[expanding] = False
    probe = cps[probed]
    m = probe.shape[0]
    # The classes, read off str.lower's own sigma rule: in "c Σ" the Σ is final
    # when c is cased (and not case-ignorable); in "A c Σ" also when c is
    # case-ignorable (skipped back to the cased A). Each probe ends with NUL.
    a = np.zeros((m, 3), dtype=np.uint32)
    a[:, 0] = probe
    a[:, 1] = 0x3A3
    low = a.tobytes().decode("utf-32-le").lower().encode("utf-32-le")
    cased = np.frombuffer(low, np.uint32).reshape(m, 3)[:, 1] == 0x3C2
    b = np.zeros((m, 4), dtype=np.uint32)
    b[:, 0] = ord("A")
    b[:, 1] = probe
    b[:, 2] = 0x3A3
    low = b.tobytes().decode("utf-32-le").lower().encode("utf-32-le")
    after_a = np.frombuffer(low, np.uint32).reshape(m, 4)[:, 2] == 0x3C2
    classes = np.full(n, EL_CASE_OTHER, dtype=np.uint8)
    classes[probe[after_a]] = EL_CASE_IGNORABLE
    classes[probe[cased]] = EL_CASE_CASED
    for cp in np.flatnonzero(expanding).tolist():
        c = chr(cp)
        if (c + "\u03a3").lower()[-1] == "\u03c2":
            classes[cp] = EL_CASE_CASED
        elif ("A" + c + "\u03a3").lower()[-1] == "\u03c2":
            classes[cp] = EL_CASE_IGNORABLE
    changed = np.flatnonzero(lower != cps)
    size = int(changed[-1]) + 1 if changed.size else 128
    exp = np.asarray(expansions, dtype=np.uint32).reshape(-1, 4)
    return np.ascontiguousarray(lower[:size]), classes, np.ascontiguousarray(exp)


cdef void _ensure_cases() except *:
    global _case_arrays
    if _case_arrays is not None:
        return
    with _case_lock:
        if _case_arrays is not None:
            return
        lower, classes, exp = _case_tables()
        _set_cases(lower, classes, exp)
        _case_arrays = (lower, classes, exp)


cdef void _set_cases(const uint32_t[::1] lower, const uint8_t[::1] classes,
                     const uint32_t[:, ::1] exp):
    CASES.lower = &lower[0]
    CASES.lower_size = lower.shape[0]
    CASES.cls = &classes[0]
    CASES.exp = &exp[0, 0] if exp.shape[0] else NULL
    CASES.n_exp = exp.shape[0]


# ---------------------------------------------------------------------- options
cdef class Options:
    """``Options(filters, split, lower, char_level)``; raises NotSupported for odd types.

    ``filters``: a str, or a list/tuple of one-character strings or code points (as
    str.maketrans takes them); ``split``: a non-empty str.
    """

    def __cinit__(self, filters, split, lower, char_level):
        self.opts.lower = 1 if lower else 0
        self.opts.char_level = 1 if char_level else 0
        self.opts.cases = &CASES
        cdef int i
        for i in range(128):
            self.opts.sep_ascii[i] = 0
        codes = []
        if not char_level:
            if not isinstance(split, str) or len(split) == 0:
                raise NotSupported("split must be a non-empty str")
            if isinstance(filters, str):
                codes = [ord(c) for c in filters]
            elif isinstance(filters, (list, tuple)):
                for c in filters:
                    if isinstance(c, str) and len(c) == 1:
                        codes.append(ord(c))
                    elif isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 0x110000:
                        codes.append(c)
                    else:
                        raise NotSupported("a filter that str.maketrans treats its own way")
            else:
                raise NotSupported("filters of another type")
        else:
            split = " " if not isinstance(split, str) or not split else split
        for c in codes:
            if c < 128:
                self.opts.sep_ascii[c] = 1
        if len(split) == 1 and ord(split) < 128:
            self.opts.sep_ascii[ord(split)] = 1
        el_tokopts_nibbles(&self.opts)
        self.opts.simd = _SIMD
        wide = np.unique(np.asarray([c for c in codes if c >= 128] + [0], dtype=np.uint32))
        self._filters = np.ascontiguousarray(wide[1:])
        self._split = np.frombuffer(split.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
        cdef const uint32_t[::1] f = self._filters
        cdef const uint32_t[::1] s = self._split
        self.opts.n_filters = f.shape[0]
        self.opts.filters = &f[0] if f.shape[0] else NULL
        self.opts.split = &s[0]
        self.opts.split_len = s.shape[0]
        self.opts.bmp = NULL
        self._bmp = None
        if _BMP and not char_level and self._split.shape[0] == 1 and (not lower or _case_arrays is not None):
            self._bmp = _bmp_table(bool(lower), int(self._split[0]), codes)
            _point_bmp(self, self._bmp)

    def tokenize(self, doc):
        """The tokens of one document (a test hook: the C rules seen from Python)."""
        docs = gather([doc])
        if docs is None:
            raise NotSupported("not a str or a list of str")
        cdef el_toks t
        cdef int64_t k
        memset(&t, 0, sizeof(t))
        try:
            if el_tokenize(&self.opts, &(<Docs>docs).view, 0, &t):
                raise MemoryError()
            out = []
            for k in range(t.n):
                out.append(PyUnicode_DecodeUTF8(t.buf + t.start[k], t.end[k] - t.start[k],
                                                "surrogatepass"))
            return out
        finally:
            el_toks_free(&t)


cdef void _point_bmp(Options options, const uint32_t[::1] table):
    options.opts.bmp = &table[0]


def _bmp_table(bint lower, uint32_t split, codes):
    """The one-character-split rules of every code point below 0x10000 (tokenize.h,
    ``el_tokopts.bmp``): lowercase (or itself), EL_BMP_SEP where that separates,
    EL_BMP_SLOW where the general rule decides. ``lower`` needs the case tables."""
    cps = np.arange(0x10000, dtype=np.uint32)
    table = cps.copy()
    slow = np.zeros(0x10000, dtype=bool)
    if lower:
        low = _case_arrays[0]
        m = min(low.shape[0], 0x10000)
        table[:m] = low[:m]
        slow = (table == EL_LOWER_EXPANDS) | (table >= 0x10000)
        slow[0x3A3] = True  # final or not: decided by the neighbours
        table[slow] = 0
    # every entry that is not slow is a BMP code point: separators beyond it never match
    separators = np.zeros(0x10000, dtype=bool)
    bmp_codes = [c for c in codes if c < 0x10000] + ([split] if split < 0x10000 else [])
    separators[np.asarray(bmp_codes, dtype=np.int64)] = True
    sep = separators[table] & ~slow
    table[sep] |= EL_BMP_SEP
    table[slow] |= EL_BMP_SLOW
    return np.ascontiguousarray(table)


# ---------------------------------------------------------------------- documents
cdef class Docs:
    def __dealloc__(self):
        free(self.items)
        free(self.first)
        free(self.count)
        free(self.is_list)

    def __len__(self):
        return self.n

    @cython.wraparound(True)
    def bounds(self, int nthreads):
        """Document ranges for up to nthreads threads, balanced by characters: ``cuts``,
        thread t takes ``cuts[t]:cuts[t + 1]``."""
        cum = np.cumsum(self._weights)
        total = int(cum[-1]) if self.n else 0
        nthreads = max(1, min(nthreads, total // MIN_THREAD_CHARS))
        cuts = [0]
        for t in range(1, nthreads):
            cuts.append(max(cuts[-1], int(np.searchsorted(cum, total * t // nthreads, side="right"))))
        cuts.append(self.n)
        return cuts


@cython.boundscheck(False)
@cython.wraparound(False)
def gather(batch):
    """A ``Docs`` for a list of documents, or None if one is not a str or a list of str."""
    if not PyList_CheckExact(batch):
        batch = list(batch)
    cdef list docs_list = <list>batch
    cdef Py_ssize_t n = len(docs_list), nitems = 0, i, k, j, m
    cdef bint wide = False
    cdef PyObject *doc
    for i in range(n):
        doc = PyList_GET_ITEM(docs_list, i)
        if PyUnicode_Check(<object>doc):
            nitems += 1
            if not wide and not PyUnicode_IS_ASCII(<object>doc):
                wide = True
        elif PyList_Check(<object>doc):
            for item in <object>doc:
                if not PyUnicode_Check(item):
                    return None
                if not wide and not PyUnicode_IS_ASCII(item):
                    wide = True
            nitems += len(<object>doc)
        else:
            return None
    if wide and _case_arrays is None:
        _ensure_cases()  # the case tables are needed (and built) for non-ASCII text only
    cdef Docs d = Docs.__new__(Docs)
    d.n = n
    d.nitems = nitems
    d.items = <el_str *>malloc(max(nitems, 1) * sizeof(el_str))
    d.first = <int64_t *>malloc(max(n, 1) * sizeof(int64_t))
    d.count = <int64_t *>malloc(max(n, 1) * sizeof(int64_t))
    d.is_list = <uint8_t *>malloc(max(n, 1))
    if not (d.items and d.first and d.count and d.is_list):
        raise MemoryError()
    weights = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] w = weights
    keep = [docs_list]
    k = 0
    for i in range(n):
        doc = PyList_GET_ITEM(docs_list, i)
        d.first[i] = k
        if PyUnicode_Check(<object>doc):
            _put(&d.items[k], <object>doc)
            d.count[i] = 1
            d.is_list[i] = 0
            w[i] = d.items[k].len + 1
            k += 1
        else:
            items = list(<object>doc)  # a snapshot: the list may change, the strings stay alive
            m = len(items)
            if m + k > nitems or any(not PyUnicode_Check(x) for x in items):
                return None
            keep.append(items)
            d.count[i] = m
            d.is_list[i] = 1
            w[i] = 1
            for j in range(m):
                _put(&d.items[k], items[j])
                w[i] += d.items[k].len + 1
                k += 1
    d.nitems = k
    d._keep = keep
    d._weights = weights
    d.view.items = d.items
    d.view.first = d.first
    d.view.count = d.count
    d.view.is_list = d.is_list
    return d


cdef inline void _put(el_str *s, object text):
    s.data = PyUnicode_DATA(text)
    s.len = PyUnicode_GET_LENGTH(text)
    s.kind = PyUnicode_KIND(text)
    s.ascii = PyUnicode_IS_ASCII(text)


# ---------------------------------------------------------------------- fitting
cdef class Counter:
    """``Counter(options, nthreads)``; ``add(docs)`` per batch, then ``result()``."""

    def __cinit__(self, Options options, int nthreads):
        self.options = options
        self.nthreads = max(1, nthreads)
        self.states = <el_thread *>calloc(self.nthreads, sizeof(el_thread))
        if self.states == NULL:
            raise MemoryError()
        for t in range(self.nthreads):
            if el_vocab_init(&self.states[t].vocab, 1024):
                raise MemoryError()
        self.thread_seconds = np.zeros(self.nthreads, dtype=np.float64)

    def __dealloc__(self):
        if self.states != NULL:
            for t in range(self.nthreads):
                el_vocab_free(&self.states[t].vocab)
                el_toks_free(&self.states[t].toks)
            free(self.states)

    def add(self, Docs docs):
        """Count a batch (its documents follow those of earlier batches)."""
        cuts = docs.bounds(self.nthreads)
        cdef int64_t[::1] c = np.asarray(cuts, dtype=np.int64)
        cdef int nthreads = len(cuts) - 1, t
        cdef int failed = 0
        cdef int64_t base = self.documents
        cdef const el_tokopts *o = &self.options.opts
        cdef const el_docs *view = &docs.view
        cdef el_thread *states = self.states
        cdef double[::1] secs = self.thread_seconds
        cdef double t0
        with nogil:
            for t in prange(nthreads, num_threads=nthreads, schedule="static", chunksize=1):
                t0 = _thread_cpu()
                failed += 1 if el_fit_range(o, view, c[t], c[t + 1], base, &states[t].vocab, &states[t].toks) else 0
                secs[t] += _thread_cpu() - t0
        if failed:
            raise MemoryError("no memory for the tokenizer's counts")
        self.documents += docs.n

    def result(self):
        """``(words, counts, docs, first_doc, records, documents)``.

        ``words`` in first-seen order (Keras' word_counts order) with their
        ``counts``, document counts ``docs`` and the document each was first
        seen in. Keras' word_docs order is first-seen order except that the
        words a document brings together come in the order Python's
        ``set(tokens)`` of that document iterates them, which depends on the
        process's string hashing; ``records`` lists those documents, flat, as
        ``document, k, k ranks of its distinct words in first-seen order``, so the
        order can be made in whichever process needs it (``word_docs_order``).
        """
        cdef el_vocab g
        cdef int64_t i, t, total = 0, used = 0
        for t in range(self.nthreads):
            total += self.states[t].vocab.n
            if self.states[t].vocab.n:
                used += 1
        if used <= 1:
            # one thread saw every word: its ids are already first-seen order
            for t in range(self.nthreads):
                if self.states[t].vocab.n or t == self.nthreads - 1:
                    return _one_state(self, &self.states[t].vocab)
        # the first thread's vocabulary, copied, takes the others' words: its own keep
        # their ids (most words of a fit are in every thread's share)
        cdef int first = 0
        while self.states[first].vocab.n == 0:
            first += 1
        if el_vocab_copy(&g, &self.states[first].vocab):
            raise MemoryError("no memory for the tokenizer's counts")
        try:
            maps = [np.empty(self.states[t].vocab.n, dtype=np.int64) for t in range(self.nthreads)]
            maps[first] = np.arange(self.states[first].vocab.n, dtype=np.int64)
            for t in range(first + 1, self.nthreads):
                if self.states[t].vocab.n and _merge(&g, &self.states[t].vocab, maps[t]):
                    raise MemoryError("no memory for the tokenizer's counts")
            n = g.n
            first_doc = np.empty(n, dtype=np.int64)
            first_pos = np.empty(n, dtype=np.int64)
            counts = np.empty(n, dtype=np.int64)
            docs = np.empty(n, dtype=np.int64)
            _columns(&g, first_doc, first_pos, counts, docs)
            # first-seen order: by document, then position (unique pairs); one key when
            # it fits, as NumPy sorts one int64 array faster than lexsort sorts two
            span = int(first_pos.max()) + 1 if n else 1
            if n and int(first_doc.max()) < (2**62) // span:
                order = np.argsort(first_doc * span + first_pos)
            else:
                order = np.lexsort((first_pos, first_doc))
            words = _words(&g, order)
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n, dtype=np.int64)
            records = np.concatenate(
                [_records(&self.states[t].vocab, maps[t], rank, first_doc) for t in range(self.nthreads)]
            )
            return words, counts[order], docs[order], first_doc[order], records, self.documents
        finally:
            el_vocab_free(&g)


cdef object _one_state(Counter self, el_vocab *v):
    """Counter.result() when a single vocabulary holds every word: no merge, no sort."""
    n = v.n
    first_doc = np.empty(n, dtype=np.int64)
    first_pos = np.empty(n, dtype=np.int64)
    counts = np.empty(n, dtype=np.int64)
    docs = np.empty(n, dtype=np.int64)
    _columns(v, first_doc, first_pos, counts, docs)
    identity = np.arange(n, dtype=np.int64)
    records = _records(v, identity, identity, first_doc)
    return _words(v), counts, docs, first_doc, records, self.documents


@cython.boundscheck(False)
@cython.wraparound(False)
cdef list _words(el_vocab *v, const int64_t[::1] order=None):
    """Every word of v as str, in id order or in ``order`` (ids)."""
    cdef Py_ssize_t i, w
    out = [None] * v.n
    for i in range(v.n):
        w = i if order is None else order[i]
        out[i] = PyUnicode_DecodeUTF8(v.arena + v.words[w].off, v.words[w].len, "surrogatepass")
    return out


cdef int _merge(el_vocab *g, el_vocab *v, int64_t[::1] m) except -1:
    cdef int r
    with nogil:
        r = el_vocab_merge(g, v, &m[0])
    return -1 if r else 0


cdef void _columns(el_vocab *g, int64_t[::1] fd, int64_t[::1] fp, int64_t[::1] c, int64_t[::1] d):
    cdef int64_t i
    for i in range(g.n):
        fd[i] = g.words[i].first_doc
        fp[i] = g.words[i].first_pos
        c[i] = g.counts[i].count
        d[i] = g.counts[i].docs


cdef object _records(el_vocab *v, int64_t[::1] m, int64_t[::1] rank, int64_t[::1] first_doc):
    """The recorded documents that brought two or more words new to the whole fit, flat.

    v's ids index m (v's ids -> merged ids), which indexes rank and first_doc: all of
    them made here from v, so read without bounds checks."""
    cdef int64_t p, doc, k, j, fresh, size = 0, q = 0
    cdef const int64_t *rec = v.rec
    cdef const int64_t *mp = &m[0] if m.shape[0] else NULL
    cdef const int64_t *rk = &rank[0] if rank.shape[0] else NULL
    cdef const int64_t *fd = &first_doc[0] if first_doc.shape[0] else NULL
    cdef int64_t *o = NULL
    cdef int64_t[::1] view
    cdef int pass_
    out = np.empty(0, dtype=np.int64)
    # first pass: the size of the records kept; second: copy them, ids as ranks
    for pass_ in range(2):
        p = 0
        while p < v.nrec:
            doc = rec[p]
            k = rec[p + 1]
            fresh = 0
            for j in range(k):
                fresh += fd[mp[rec[p + 2 + j]]] == doc
            if fresh >= 2:
                if pass_ == 0:
                    size += 2 + k
                else:
                    o[q] = doc
                    o[q + 1] = k
                    for j in range(k):
                        o[q + 2 + j] = rk[mp[rec[p + 2 + j]]]
                    q += 2 + k
            p += 2 + k
        if pass_ == 0:
            if size == 0:
                return out
            out = np.empty(size, dtype=np.int64)
            view = out
            o = &view[0]
    return out


# ------------------------------------------------------ Python's set(tokens) order
# Keras adds a document's words to word_docs in the order ``set(tokens)`` iterates
# them: the order of the set's hash table, which follows from the words' str hashes
# and the order they were added in. Building that set for every document that
# brought new words was a sixth of a fit; instead the table is worked out from the
# hashes alone, by CPython's set algorithm (Objects/setobject.c: probe 10 slots in a
# row, then jump by perturbation; grow to 4x the entries when 3/5 full). That
# algorithm is CPython's detail, so it is checked against real sets once per process
# (_set_order_works), and real sets are built where it does not hold.

cdef enum:
    _LINEAR_PROBES = 9
    _PERTURB_SHIFT = 5
    _SET_MINSIZE = 8
    _SHADOW_MAX_KEYS = 50000  # up to here CPython's set grows 4x (2x past it), as shadowed

cdef struct _ShadowSet:
    int64_t *key     # per slot: the position of its key in the order added, -1 empty
    Py_ssize_t cap   # slots allocated


cdef void _shadow_put(int64_t *key, size_t mask, int64_t k, Py_hash_t h) noexcept nogil:
    """Where CPython's set puts a key absent from the table, with no deleted slots."""
    cdef size_t i = <size_t>h & mask, e
    cdef size_t perturb = <size_t>h
    cdef int probes
    while True:
        e = i
        probes = _LINEAR_PROBES if i + _LINEAR_PROBES <= mask else 0
        while True:
            if key[e] < 0:
                key[e] = k
                return
            e += 1
            if probes == 0:
                break
            probes -= 1
        perturb >>= _PERTURB_SHIFT
        i = (i * 5 + 1 + perturb) & mask


cdef int _shadow_order(_ShadowSet *t, const Py_hash_t *hashes, Py_ssize_t n,
                       int64_t *order) noexcept nogil:
    """order[0:n] = the positions (in 0..n) of n <= _SHADOW_MAX_KEYS distinct keys with these
    hashes, added in this order to a new set, in the order the set iterates them; order has
    room for n + 1. 0, or -1 out of memory."""
    cdef size_t mask = _SET_MINSIZE - 1, newsize
    cdef Py_ssize_t k, fill = 0, j
    if _shadow_room(t, _SET_MINSIZE):
        return -1
    memset(t.key, 0xFF, _SET_MINSIZE * sizeof(int64_t))
    for k in range(n):
        _shadow_put(t.key, mask, k, hashes[k])
        fill += 1
        if <size_t>fill * 5 < mask * 3:
            continue
        # grow: a new table of the smallest power of two > 4 x the entries, the old slots
        # re-put in slot order
        newsize = _SET_MINSIZE
        while newsize <= <size_t>(fill * 4):
            newsize <<= 1
        if _shadow_room(t, <Py_ssize_t>newsize):
            return -1
        _shadow_keys(t, mask, order)
        memset(t.key, 0xFF, newsize * sizeof(int64_t))
        mask = newsize - 1
        for j in range(fill):
            _shadow_put(t.key, mask, order[j], hashes[order[j]])
    _shadow_keys(t, mask, order)
    return 0


cdef inline void _shadow_keys(_ShadowSet *t, size_t mask, int64_t *order) noexcept nogil:
    """order = the keys in slot order. Without a branch on the slots, which are full or
    empty as good as at random; order needs room for one more than there are keys."""
    cdef size_t j
    cdef Py_ssize_t m = 0
    for j in range(mask + 1):
        order[m] = t.key[j]
        m += t.key[j] >= 0


cdef int _shadow_room(_ShadowSet *t, Py_ssize_t slots) noexcept nogil:
    cdef int64_t *key
    if slots <= t.cap:
        return 0
    key = <int64_t *>realloc(t.key, slots * sizeof(int64_t))
    if key == NULL:
        return -1
    t.key = key
    t.cap = slots
    return 0


cdef int _set_order_state = 0  # 1: _shadow_order is this Python's set order; -1: it is not


def _set_order_works():
    """Whether _shadow_order gives real sets' order here: sets of str of 1 to 40 keys and
    of 100, 1,000 and 10,000 (every growth step up to there), checked once per process."""
    global _set_order_state
    if _set_order_state == 0:
        sizes = (*range(1, 41), 100, 1000, 10000)
        works = all(_shadow_matches([f"{n}:{i}" for i in range(n)]) for n in sizes)
        _set_order_state = 1 if works else -1
    return _set_order_state > 0


def _shadow_matches(list keys):
    """Whether _shadow_order of these distinct keys is the order of set(keys)."""
    cdef _ShadowSet t
    cdef Py_ssize_t n = len(keys)
    if n > _SHADOW_MAX_KEYS:
        raise ValueError(f"the shadow set covers up to {_SHADOW_MAX_KEYS} keys, not {n}")
    position = {key: i for i, key in enumerate(keys)}
    hashes = np.array([hash(key) for key in keys] or [0], dtype=np.int64)
    order = np.empty(n + 1, dtype=np.int64)
    cdef int64_t[::1] h = hashes, o = order
    memset(&t, 0, sizeof(t))
    try:
        if _shadow_order(&t, <const Py_hash_t *>&h[0], n, &o[0]):
            raise MemoryError()
    finally:
        free(t.key)
    return order[:n].tolist() == [position[key] for key in set(keys)]


@cython.boundscheck(False)
@cython.wraparound(False)
def word_docs_order(list words, const int64_t[::1] first_doc, const int64_t[::1] records,
                    shadow=None):
    """The order Keras' word_docs gets its keys in, as positions in ``words``.

    ``words`` are in first-seen order, ``first_doc[i]`` the document where
    ``words[i]`` was first seen. Keras adds each document's words to word_docs
    by iterating ``set(tokens)``, so where a document brings several new words
    they come in that set's order, which depends on this process's string
    hashing: rebuilt here, in the process that owns the result, from
    ``records`` (flat: ``document, k, k positions of its distinct words in
    first-seen order``) of every document that brought two or more new words.
    The set's order is worked out from the words' hashes (_shadow_order) or,
    where that is not this Python's (or past 50,000 words, where CPython's growth
    rule changes), taken from a set built as ``set(tokens)`` builds it: the same
    keys inserted in the same order give the same table. ``shadow=False`` builds
    the sets always.
    """
    cdef Py_ssize_t n = len(words), p = 0, k, j, r, lo, filled, nfresh
    cdef int64_t doc
    cdef _ShadowSet table
    cdef Py_hash_t *hashes = NULL
    cdef int64_t *seen = NULL
    cdef Py_ssize_t cap = 0
    cdef bint shadow_ok = _set_order_works() and shadow is not False
    order = np.arange(n, dtype=np.int64)
    cdef int64_t[::1] out = order
    # every word's hash once (the tables made next hash each word anyway, and CPython
    # keeps a str's hash), not once per record naming it: 5 times fewer calls here
    word_hash = np.empty(n if shadow_ok and records.shape[0] else 0, dtype=np.int64)
    cdef int64_t[::1] wh = word_hash
    for j in range(wh.shape[0]):
        wh[j] = PyObject_Hash(<object>PyList_GET_ITEM(words, j))
    memset(&table, 0, sizeof(table))
    try:
        while p < records.shape[0]:
            doc = records[p]
            k = records[p + 1]
            if k < 0 or p + 2 + k > records.shape[0]:
                raise ValueError("records end inside a record")
            nfresh = 0
            lo = n
            for j in range(k):
                r = records[p + 2 + j]
                if r < 0 or r >= n:
                    raise ValueError("records name words that are not there")
                if first_doc[r] == doc:
                    nfresh += 1
                    if r < lo:
                        lo = r
            if nfresh >= 2:
                if k > cap:
                    free(hashes)
                    free(seen)
                    hashes = <Py_hash_t *>malloc(k * sizeof(Py_hash_t))
                    seen = <int64_t *>malloc((k + 1) * sizeof(int64_t))
                    if hashes == NULL or seen == NULL:
                        raise MemoryError()
                    cap = k
                # the words a document brings are contiguous in first-seen order, from lo
                filled = lo
                if shadow_ok and k <= _SHADOW_MAX_KEYS:
                    for j in range(k):
                        hashes[j] = wh[records[p + 2 + j]]
                    if _shadow_order(&table, hashes, k, seen):
                        raise MemoryError()
                else:
                    _real_set_order(words, records, p + 2, k, seen)
                for j in range(k):
                    r = records[p + 2 + seen[j]]
                    if first_doc[r] == doc:
                        out[filled] = r
                        filled += 1
            p += 2 + k
    finally:
        free(hashes)
        free(seen)
        free(table.key)
    return order


cdef int _real_set_order(list words, const int64_t[::1] records, Py_ssize_t start,
                         Py_ssize_t k, int64_t *seen) except -1:
    """seen[0:k] = positions (0..k) of words[records[start:start + k]] in the order a set
    built from them in that order iterates them."""
    members = PySet_New(NULL)
    where = {}
    cdef Py_ssize_t j
    for j in range(k):
        word = <object>PyList_GET_ITEM(words, records[start + j])
        PySet_Add(members, word)
        where[word] = j
    j = 0
    for word in members:  # the set's own order (public API: its iterator)
        seen[j] = where[word]
        j += 1
    return 0


# ---------------------------------------------------------------- result tables
cdef extern from "Python.h":
    int PyDict_SetItem(object d, object k, object v) except -1
    int PyDict_CheckExact(object o)
    int PyObject_SetItem(object o, object k, object v) except -1
    PyObject *PyDict_GetItemWithError(object d, object k) except? NULL
    int PyDict_Next(object d, Py_ssize_t *pos, PyObject **k, PyObject **v)
    object PyLong_FromLongLong(long long v)
    dict _PyDict_NewPresized(Py_ssize_t minused)


@cython.boundscheck(False)
def fill_counts(target, list words, const int64_t[::1] values, const int64_t[::1] order):
    """``target[words[i]] = values[i]`` for i in ``order``: Keras' count tables in one pass.

    ``target`` is an empty mapping (word_counts' OrderedDict, word_docs' defaultdict):
    its keys come in ``order``, as ``target.update(zip(...))`` would put them, without
    the pairs and the list of numbers made on the way.
    """
    cdef Py_ssize_t k, i, n = order.shape[0]
    cdef bint plain = PyDict_CheckExact(target) or type(target) is defaultdict
    for k in range(n):
        i = order[k]
        if plain:
            PyDict_SetItem(target, words[i], PyLong_FromLongLong(values[i]))
        else:
            PyObject_SetItem(target, words[i], PyLong_FromLongLong(values[i]))


def take(list items, const int64_t[::1] order):
    """``[items[i] for i in order]``."""
    cdef Py_ssize_t k, n = order.shape[0], size = len(items)
    cdef PyObject *row
    cdef PyObject *item
    for k in range(n):
        if order[k] < 0 or order[k] >= size:
            raise IndexError(f"position {order[k]} of a list of {size}")
    row = PyList_New(n)
    if row == NULL:
        raise MemoryError()
    for k in range(n):
        item = PyList_GET_ITEM(items, order[k])
        Py_INCREF(item)
        PyList_SET_ITEM(row, k, item)
    out = <object>row
    _decref(row)
    return out


def index_tables(list vocab, word_docs, index_docs):
    """Keras' numbering of ``vocab`` (most frequent first): ``(word_index, index_word)``,
    and ``index_docs[word_index[w]] = c`` for each ``w, c`` of ``word_docs``.

    ``word_index`` is ``dict(zip(vocab, range(1, n + 1)))`` (a word given twice keeps
    its first place and its later number, as there), ``index_word`` its inverse in
    its order; the numbers are one int object each, shared by the three tables.
    """
    cdef Py_ssize_t i, n = len(vocab), pos = 0
    cdef PyObject *key
    cdef PyObject *value
    cdef PyObject *number
    # sized for n up front: a dict grown one insertion at a time rebuilds itself ~n/3 times
    word_index = _PyDict_NewPresized(n)
    for i in range(n):
        PyDict_SetItem(word_index, vocab[i], PyLong_FromLongLong(i + 1))
    index_word = _PyDict_NewPresized(len(word_index))
    while PyDict_Next(word_index, &pos, &key, &value):
        PyDict_SetItem(index_word, <object>value, <object>key)
    pos = 0
    plain = type(index_docs) is defaultdict or PyDict_CheckExact(index_docs)
    while PyDict_Next(word_docs, &pos, &key, &value):
        number = PyDict_GetItemWithError(word_index, <object>key)
        if number == NULL:
            raise KeyError(<object>key)
        if plain:
            PyDict_SetItem(index_docs, <object>number, <object>value)
        else:
            PyObject_SetItem(index_docs, <object>number, <object>value)
    return word_index, index_word


# ---------------------------------------------------------------------- look-ups
cdef class Table:
    """``Table(word_index, below=0)``: raises NotSupported unless every value is an int
    (int64). With ``below`` > 0 only the words whose index is under it are put in the
    table (the others are checked, not stored): a look-up that treats a word at or
    past num_words as it treats an unknown one then probes a table of num_words
    words, which stays in cache, instead of the whole vocabulary."""

    def __cinit__(self, dict word_index, int64_t below=0):
        cdef int overflow = 0, added
        cdef long long number
        cdef int64_t wid
        cdef const char *p
        cdef Py_ssize_t size
        if el_vocab_init(&self.vocab, min(len(word_index), below) if below > 0 else len(word_index)):
            raise MemoryError()
        self.values = []
        numbers = []
        for word, value in word_index.items():
            if not PyLong_Check(value):
                raise NotSupported("an index that is not an int")
            number = PyLong_AsLongLongAndOverflow(value, &overflow)
            if overflow:
                raise NotSupported("an index beyond int64")
            if not PyUnicode_Check(word):
                continue  # never equal to a token, which is always a str
            if below > 0 and number >= below:
                continue
            if PyUnicode_IS_ASCII(word):  # CPython's own bytes are the UTF-8
                p = <const char *>PyUnicode_DATA(word)
                size = PyUnicode_GET_LENGTH(word)
            else:
                key = (<str>word).encode("utf-8", "surrogatepass")
                p = <const char *>key
                size = len(key)
            wid = el_vocab_add(&self.vocab, p, size, &added)
            if wid < 0:
                raise MemoryError()
            self.values.append(value)
            numbers.append(number)
        self.numbers = np.asarray(numbers, dtype=np.int64)

    def __dealloc__(self):
        el_vocab_free(&self.vocab)

    def __len__(self):
        return self.vocab.n


cdef object _keep_table(Table table, int64_t num_words):
    """Keras' num_words rule per table id, worked out once (the look-up loop reads a
    byte): 1 where the word's index is under num_words (every word when num_words is 0).
    Never empty, so that C may take its address."""
    keep = (table.numbers < num_words) if num_words else np.ones(len(table.numbers), dtype=bool)
    keep = np.ascontiguousarray(keep, dtype=np.uint8)
    return keep if keep.shape[0] else np.zeros(1, dtype=np.uint8)


def lookup(Options options, Table table, Docs docs, int64_t num_words, bint has_oov,
           bint oov_has_index, int nthreads, double[::1] seconds=None):
    """Table ids per token (``EL_OOV`` = -1 for the OOV index), and tokens per document.

    ``seconds``: if given (float64, one per thread), each thread adds the CPU seconds
    it spent in the kernel to its entry.
    """
    cuts = docs.bounds(nthreads)
    nthreads = len(cuts) - 1
    cdef int64_t[::1] c = np.asarray(cuts, dtype=np.int64)
    lengths = np.zeros(docs.n, dtype=np.int64)
    cdef int64_t[::1] lens = lengths
    cdef el_thread *states = <el_thread *>calloc(nthreads, sizeof(el_thread))
    cdef int t, failed = 0
    cdef int64_t total = 0, pos = 0
    cdef const el_tokopts *o = &options.opts
    cdef int64_t *lp = &lens[0] if docs.n else NULL
    cdef const el_docs *view = &docs.view
    cdef const el_vocab *tv = &table.vocab
    keep_array = _keep_table(table, num_words)
    cdef const uint8_t[::1] keep_view = keep_array
    cdef const uint8_t *keep = &keep_view[0]
    cdef double t0
    cdef double *secs = NULL
    if seconds is not None and seconds.shape[0] >= nthreads:
        secs = &seconds[0]
    if states == NULL:
        raise MemoryError()
    try:
        with nogil:
            for t in prange(nthreads, num_threads=nthreads, schedule="static", chunksize=1):
                t0 = _thread_cpu()
                failed += 1 if el_lookup_range(o, view, c[t], c[t + 1], tv, keep, has_oov,
                                               oov_has_index, &states[t].toks, &states[t].out, lp) else 0
                if secs != NULL:
                    secs[t] += _thread_cpu() - t0
        if failed:
            raise MemoryError("no memory for the sequences")
        for t in range(nthreads):
            total += states[t].out.n
        if nthreads == 1 and total:
            # the thread's buffer becomes the result: no copy, and no second 8 bytes a
            # token of memory the process never used (slow to touch the first time)
            ids = np.frombuffer(_OwnedIds.adopt(&states[0].out), dtype=np.int64)
            return ids, lengths
        ids = np.empty(total, dtype=np.int64)
        for t in range(nthreads):
            if states[t].out.n:
                _copy_ids(ids, pos, states[t].out.ids, states[t].out.n)
                pos += states[t].out.n
        return ids, lengths
    finally:
        for t in range(nthreads):
            el_toks_free(&states[t].toks)
            free(states[t].out.ids)
        free(states)


cdef class _OwnedIds:
    """A malloc'd el_idbuf's ids, owned: NumPy reads them through the buffer protocol
    and they are freed with the last array that uses them."""
    cdef int64_t *ids
    cdef Py_ssize_t n
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]

    @staticmethod
    cdef _OwnedIds adopt(el_idbuf *buf):
        cdef _OwnedIds self = _OwnedIds.__new__(_OwnedIds)
        self.ids, self.n = buf.ids, buf.n
        buf.ids, buf.n, buf.cap = NULL, 0, 0
        return self

    def __getbuffer__(self, Py_buffer *view, int flags):
        self.shape[0] = self.n * sizeof(int64_t)
        self.strides[0] = 1
        view.buf = <void *>self.ids
        view.obj = self
        view.len = self.n * sizeof(int64_t)
        view.readonly = 0
        view.itemsize = 1
        view.format = "B"
        view.ndim = 1
        view.shape = self.shape
        view.strides = self.strides
        view.suboffsets = NULL
        view.internal = NULL

    def __releasebuffer__(self, Py_buffer *view):
        pass

    def __dealloc__(self):
        free(self.ids)


cdef extern from *:
    """
    static inline int64_t el_claim(int64_t *next) { return __atomic_fetch_add(next, 1, __ATOMIC_RELAXED); }
    static inline int el_state_get(const int *s) { return __atomic_load_n(s, __ATOMIC_ACQUIRE); }
    static inline void el_state_set(int *s, int v) { __atomic_store_n(s, v, __ATOMIC_RELEASE); }
    static inline void el_claim_stop(int64_t *next, int64_t n) { __atomic_store_n(next, n, __ATOMIC_RELAXED); }
    """
    int64_t el_claim(int64_t *next) nogil
    int el_state_get(const int *s) nogil
    void el_state_set(int *s, int v) nogil
    void el_claim_stop(int64_t *next, int64_t n) nogil


cdef extern from "<sched.h>":
    int sched_yield() nogil


cdef class LookupPieces:
    """``LookupPieces(options, table, docs, num_words, has_oov, oov_has_index, piece_docs)``.

    Helper threads call ``help()``, which claims and runs pieces without ever taking the
    GIL until none is left; the thread that makes the lists takes pieces in order with
    ``wait(i)`` (running unclaimed pieces itself meanwhile) and ``result(i)``. A piece's
    ids are what ``lookup`` gives for its documents."""

    def __cinit__(self, Options options, Table table, Docs docs, int64_t num_words, bint has_oov,
                  bint oov_has_index, int64_t piece_docs):
        self.options, self.table, self.docs = options, table, docs
        keep = self._keep = _keep_table(table, num_words)
        cdef const uint8_t[::1] kv = keep
        self.keep = &kv[0]
        self.has_oov, self.oov_has_index = has_oov, oov_has_index
        self.piece_docs = max(1, piece_docs)
        self.npieces = (docs.n + self.piece_docs - 1) // self.piece_docs
        self._lengths = np.zeros(max(docs.n, 1), dtype=np.int64)
        cdef int64_t[::1] lv = self._lengths
        self.lengths = &lv[0]
        self.outs = <el_idbuf *>calloc(max(self.npieces, 1), sizeof(el_idbuf))
        self.state = <int *>calloc(max(self.npieces, 1), sizeof(int))
        if self.outs == NULL or self.state == NULL:
            raise MemoryError()
        self.next_piece = 0

    def __dealloc__(self):
        cdef int64_t i
        if self.outs != NULL:
            for i in range(self.npieces):
                free(self.outs[i].ids)
            free(self.outs)
        free(self.state)
        el_toks_free(&self.mine)

    def __len__(self):
        return self.npieces

    cdef int run(self, int64_t i, el_toks *t) noexcept nogil:
        cdef int64_t d0 = i * self.piece_docs
        cdef int64_t d1 = min(d0 + self.piece_docs, self.docs.n)
        cdef int failed = el_lookup_range(&self.options.opts, &self.docs.view, d0, d1,
                                          &self.table.vocab, self.keep, self.has_oov,
                                          self.oov_has_index, t, &self.outs[i], self.lengths)
        el_state_set(&self.state[i], -1 if failed else 2)
        return failed

    def help(self):
        """Claim and run pieces until none is left (the GIL released meanwhile)."""
        cdef el_toks t
        cdef int64_t i
        memset(&t, 0, sizeof(t))
        try:
            with nogil:
                while True:
                    i = el_claim(&self.next_piece)
                    if i >= self.npieces:
                        break
                    el_state_set(&self.state[i], 1)
                    self.run(i, &t)
        finally:
            el_toks_free(&t)

    def stop(self):
        """No piece is claimed after this (the pieces running finish)."""
        el_claim_stop(&self.next_piece, self.npieces)

    def wait(self, int64_t i):
        """Until piece i is done: run unclaimed pieces meanwhile, then yield to the thread
        running it. Raises MemoryError if it ran out of memory."""
        cdef int64_t j
        cdef int st
        with nogil:
            while el_state_get(&self.state[i]) != 2:
                st = el_state_get(&self.state[i])
                if st == -1:
                    break
                j = el_claim(&self.next_piece)
                if j < self.npieces:
                    el_state_set(&self.state[j], 1)
                    self.run(j, &self.mine)
                else:
                    sched_yield()
        if el_state_get(&self.state[i]) == -1:
            raise MemoryError("no memory for the sequences")

    def result(self, int64_t i):
        """(ids, lengths) of piece i, as ``lookup`` gives them; its ids buffer is handed over."""
        cdef int64_t d0 = i * self.piece_docs
        cdef int64_t d1 = min(d0 + self.piece_docs, self.docs.n)
        lengths = self._lengths[d0:d1]
        if self.outs[i].n == 0:
            return np.zeros(0, dtype=np.int64), lengths
        return np.frombuffer(_OwnedIds.adopt(&self.outs[i]), dtype=np.int64), lengths


cdef void _copy_ids(int64_t[::1] dst, int64_t pos, int64_t *src, int64_t n):
    memcpy(&dst[pos], src, n * sizeof(int64_t))


@cython.boundscheck(False)
def to_lists(const int64_t[::1] ids, const int64_t[::1] lengths, list values, oov):
    """Lists of the word_index's value objects (``oov`` for -1), one per document."""
    cdef Py_ssize_t n = lengths.shape[0], d, k, pos = 0, m
    cdef PyObject *row
    cdef PyObject *item
    cdef PyObject *oov_ptr = <PyObject *>oov
    for d in range(n):
        if lengths[d] < 0:
            raise ValueError("a negative length")
        pos += lengths[d]
    if pos != ids.shape[0]:  # the loop below reads ids without bounds checks
        raise ValueError(f"the lengths add up to {pos} ids, not {ids.shape[0]}")
    pos = 0
    out = [None] * n
    for d in range(n):
        m = lengths[d]
        row = PyList_New(m)
        if row == NULL:
            raise MemoryError()
        for k in range(m):
            item = oov_ptr if ids[pos + k] < 0 else PyList_GET_ITEM(values, ids[pos + k])
            Py_INCREF(item)
            PyList_SET_ITEM(row, k, item)
        pos += m
        out[d] = <object>row
        _decref(row)
    return out


cdef extern from "Python.h":
    void Py_DECREF(PyObject *o)


cdef inline void _decref(PyObject *o):
    Py_DECREF(o)


# ---------------------------------------------------------------------- padding
ctypedef fused numeric:
    signed char
    short
    int
    long long
    unsigned char
    unsigned short
    unsigned int
    unsigned long long
    float
    double


@cython.boundscheck(False)
@cython.wraparound(False)
def _pad_lists(numeric[:, ::1] x, list sequences, Py_ssize_t maxlen, bint pad_post,
               bint cut_post, long long lo, long long hi):
    """Copy lists of exact ints into rows of x; 1 if a value is not such an int in [lo, hi].
    Cython picks the specialisation from x's dtype."""
    cdef Py_ssize_t i, j, n, keep, start, col
    cdef long long v
    cdef int overflow = 0
    cdef PyObject *item
    cdef PyObject *seq
    cdef numeric *row
    if x.shape[0] < len(sequences) or x.shape[1] < maxlen:
        return 1
    for i in range(len(sequences)):
        seq = PyList_GET_ITEM(sequences, i)
        if not PyList_CheckExact(<object>seq):
            return 1
        n = PyList_GET_SIZE(<object>seq)
        keep = n if n < maxlen else maxlen
        start = n - keep if not cut_post else 0
        col = 0 if pad_post else maxlen - keep
        row = &x[i, 0] if maxlen else NULL
        for j in range(keep):
            item = PyList_GET_ITEM(<object>seq, start + j)
            if not PyLong_CheckExact(<object>item):
                return 1
            v = PyLong_AsLongLongAndOverflow(<object>item, &overflow)
            if overflow or v < lo or v > hi:
                return 1
            row[col + j] = <numeric>v
    return 0


_RANGES = {
    np.dtype(np.int8): (-(2**7), 2**7 - 1), np.dtype(np.int16): (-(2**15), 2**15 - 1),
    np.dtype(np.int32): (-(2**31), 2**31 - 1), np.dtype(np.int64): (-(2**63), 2**63 - 1),
    np.dtype(np.uint8): (0, 2**8 - 1), np.dtype(np.uint16): (0, 2**16 - 1),
    np.dtype(np.uint32): (0, 2**32 - 1), np.dtype(np.uint64): (0, 2**63 - 1),
    # integers that convert to these floats exactly
    np.dtype(np.float32): (-(2**24), 2**24), np.dtype(np.float64): (-(2**53), 2**53),
}


def pad_lists(x, list sequences, Py_ssize_t maxlen, bint pad_post, bint cut_post):
    """Fill the (n, maxlen) C-contiguous x from lists of Python ints; False if not all such."""
    dtype = x.dtype
    if dtype not in _RANGES or not x.flags.c_contiguous or x.ndim != 2:
        return False
    lo, hi = _RANGES[dtype]
    if dtype.byteorder not in "=|":
        return False
    return _pad_lists(x, sequences, maxlen, pad_post, cut_post, lo, hi) == 0
