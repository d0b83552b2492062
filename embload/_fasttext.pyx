"""fastText / floret ``.bin`` and ``.ftz`` models: the bytes -> a parsed model -> word vectors.

The file layout is described at the top of ``src/fasttext.h``. This module reads it section
by section from one buffer (a read-only memory map of the file, or the decompressed bytes
of a compressed one), checking every size against the bytes that are left, so a truncated
or damaged file raises an error naming the section and byte offset instead of reading past
the end or allocating what a damaged count asks for. The dense input matrix stays a view
of the buffer (no copy); the dictionary's words are copied into one arena (word + '\\n'),
the form :class:`~embload.WordList` and the C word table (``src/wordhash.h``) share.

Three layouts exist, told apart from the bytes alone:

* fastText 0.9 (version 12, and 11): magic, version, args, dictionary with pruneidx,
  a quant_input byte, the input matrix;
* floret: the same with two more ints in the args (``mode``, ``hashCount``);
* the oldest fastText (before the magic number, e.g. gensim's ``lee_fasttext.bin``): args
  first, no pruneidx, no quant_input byte. It is recognised when its args and dictionary
  header are plausible (a text file's first bytes never are).

Word vectors are computed in C (``el_ft_range_vectors``) without the GIL, each thread
taking one contiguous range of the words: each word's vector depends on that word alone,
so the result is the same for any number of threads.
"""

from cython.parallel cimport parallel, prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

import math
import struct

import numpy as np
cimport numpy as cnp

from .errors import EmbeddingFormatError

cnp.import_array()

MAGIC = 793712314
VERSIONS = (11, 12)
LOSS_NAMES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODEL_NAMES = {1: "cbow", 2: "skipgram", 3: "supervised"}
MODE_NAMES = {1: "fasttext", 2: "floret"}
EOS = "</s>"

# Args blocks: (name, struct code). The oldest layout has the fastText one without magic.
_FASTTEXT_ARGS = (("dim", "i"), ("ws", "i"), ("epoch", "i"), ("min_count", "i"), ("neg", "i"),
                  ("word_ngrams", "i"), ("loss", "i"), ("model", "i"), ("bucket", "i"),
                  ("minn", "i"), ("maxn", "i"), ("lr_update_rate", "i"), ("t", "d"))
_FLORET_ARGS = _FASTTEXT_ARGS[:11] + (("mode", "i"), ("hash_count", "i")) + _FASTTEXT_ARGS[11:]
_FASTTEXT_FMT = "<" + "".join(code for _, code in _FASTTEXT_ARGS)
_FLORET_FMT = "<" + "".join(code for _, code in _FLORET_ARGS)
# the widest dimension a plausible model has (the oldest layout is recognised by it)
_MAX_DIM = 1 << 20
# bytes sniff needs to decide: magic + floret args + dictionary header
SNIFF_BYTES = 8 + struct.calcsize(_FLORET_FMT) + 28


class _Layout:
    """Where the sections start, as decided from the first bytes."""

    def __init__(self, version, floret, args_at, args):
        self.version = version      # None: the oldest layout
        self.floret = floret        # floret's args block
        self.args_at = args_at
        self.args = args            # the args block's raw values (dict)
        self.dict_at = args_at + struct.calcsize(_FLORET_FMT if floret else _FASTTEXT_FMT)


def _args_plausible(a):
    return (1 <= a["dim"] <= _MAX_DIM and a["ws"] >= 0 and a["epoch"] >= 0
            and a["min_count"] >= 0 and a["neg"] >= 0 and a["word_ngrams"] >= 0
            and a["loss"] in LOSS_NAMES and a["model"] in MODEL_NAMES and a["bucket"] >= 0
            and a["minn"] >= 0 and a["maxn"] >= 0 and math.isfinite(a["t"]) and a["t"] >= 0
            and a.get("mode", 1) in MODE_NAMES and 1 <= a.get("hash_count", 1) <= 4)


def _dict_plausible(head, at, pruneidx):
    need = 28 if pruneidx else 20
    if len(head) < at + need:
        return False
    size, nwords, nlabels, ntokens = struct.unpack_from("<iiiq", head, at)
    prune = struct.unpack_from("<q", head, at + 20)[0] if pruneidx else -1
    return (size >= 0 and nwords >= 0 and nlabels >= 0 and nwords + nlabels == size
            and ntokens >= 0 and prune >= -1)


def _try_args(head, at, fmt, names):
    if len(head) < at + struct.calcsize(fmt):
        return None
    return dict(zip([n for n, _ in names], struct.unpack_from(fmt, head, at)))


def detect_layout(head):
    """The layout of a model whose file starts with ``head`` (bytes), or None when the
    bytes are not a fastText model.

    Raises ``ValueError`` (the reason, without the path) for a model that announces
    itself with the magic number but whose version or args cannot be read.
    """
    head = bytes(head[:SNIFF_BYTES])
    if len(head) >= 4 and struct.unpack_from("<i", head)[0] == MAGIC:
        if len(head) < 8:
            raise ValueError("header at byte 4: the file ends before the version; "
                             "the model is truncated")
        version = struct.unpack_from("<i", head, 4)[0]
        if version not in VERSIONS:
            raise ValueError(f"header at byte 4: fastText file version {version}; embload reads "
                             f"versions {' and '.join(map(str, VERSIONS))} (fastText 0.9 and floret "
                             f"write 12)")
        candidates = []
        for floret, fmt, names in ((False, _FASTTEXT_FMT, _FASTTEXT_ARGS),
                                   (True, _FLORET_FMT, _FLORET_ARGS)):
            args = _try_args(head, 8, fmt, names)
            if args is not None and _args_plausible(args):
                layout = _Layout(version, floret, 8, args)
                if _dict_plausible(head, layout.dict_at, True):
                    candidates.append(layout)
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) == 2:
            raise ValueError("header at byte 8: the args block reads as fastText's and as "
                             "floret's; the model is damaged or of an unknown kind")
        if len(head) < SNIFF_BYTES - 8:
            raise ValueError(f"header at byte 8: the file ends after {len(head)} bytes, inside "
                             "the args block or the dictionary header; the model is truncated")
        args = _try_args(head, 8, _FASTTEXT_FMT, _FASTTEXT_ARGS)
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        raise ValueError(f"header at byte 8: the args block ({shown}) or the dictionary header "
                         "after it is not a fastText or floret model's; the file is damaged")
    # the oldest layout: args at 0, dictionary without pruneidx
    args = _try_args(head, 0, _FASTTEXT_FMT, _FASTTEXT_ARGS)
    if args is not None and _args_plausible(args):
        layout = _Layout(None, False, 0, args)
        if _dict_plausible(head, layout.dict_at, False):
            return layout
    return None


cdef char _NUL = 0


cdef inline const char *_first(const uint8_t[::1] view) noexcept:
    """The first byte of a buffer, or a NUL byte when it is empty (never NULL)."""
    return <const char *>&view[0] if view.shape[0] else &_NUL


def _damaged(path, section, offset, reason):
    # the section names the record ("dictionary entry 5 of 291"): no record= to repeat it
    return EmbeddingFormatError(f"{section} at byte {offset}: {reason}", path=path)


cdef class _Cursor:
    """Reads numbers from the buffer, checking that they are there."""

    def __cinit__(self, buf, Py_ssize_t pos, path):
        self.buf = buf
        self.size = self.buf.shape[0]
        self.pos = pos
        self.path = path

    cdef Py_ssize_t left(self):
        return self.size - self.pos

    cdef need(self, Py_ssize_t n, str section, str what):
        if n < 0 or self.size - self.pos < n:
            raise _damaged(self.path, section, self.pos,
                           f"the file ends inside {what} ({n} bytes needed, {self.size - self.pos} "
                           f"left); the model is truncated or damaged")

    cdef int64_t i64(self, str section, str what) except? -1:
        cdef int64_t v
        self.need(8, section, what)
        memcpy(&v, &self.buf[self.pos], 8)
        self.pos += 8
        return v

    cdef int32_t i32(self, str section, str what) except? -1:
        cdef int32_t v
        self.need(4, section, what)
        memcpy(&v, &self.buf[self.pos], 4)
        self.pos += 4
        return v

    cdef int u8(self, str section, str what) except -1:
        self.need(1, section, what)
        self.pos += 1
        return self.buf[self.pos - 1]

    cdef array(self, buffer, dtype, Py_ssize_t count, str section, str what):
        """``count`` items of ``dtype`` at the cursor, as a view of ``buffer`` (no copy)."""
        dt = np.dtype(dtype)
        if count < 0 or count > self.left() // dt.itemsize:
            size = f"{count} x {dt.itemsize} bytes" if count >= 0 else "more bytes than that"
            raise _damaged(self.path, section, self.pos,
                           f"{what} needs {size} but {self.left()} are left; "
                           f"the model is truncated or its sizes are damaged")
        out = np.frombuffer(buffer, dtype=dt, count=count, offset=self.pos)
        self.pos += count * dt.itemsize
        return out


cdef class ParsedModel:
    """A fastText / floret model read from a buffer; see :func:`parse`."""

    def __cinit__(self):
        self.indexed = False
        memset(&self.model, 0, sizeof(el_ft_model))

    def __dealloc__(self):
        if self.indexed:
            el_wordtable_free(&self.index)

    # --- the sections -----------------------------------------------------------------
    cdef _read_args(self, layout):
        a = dict(layout.args)
        if self.version == 11 and a["model"] == 3:
            a["maxn"] = 0  # fastText: version 11 supervised models had no character n-grams
        a.setdefault("mode", 1)
        a.setdefault("hash_count", 1)
        named = {"dim": a["dim"], "ws": a["ws"], "epoch": a["epoch"], "min_count": a["min_count"],
                 "neg": a["neg"], "word_ngrams": a["word_ngrams"], "loss": LOSS_NAMES[a["loss"]],
                 "model": MODEL_NAMES[a["model"]], "bucket": a["bucket"], "minn": a["minn"],
                 "maxn": a["maxn"], "lr_update_rate": a["lr_update_rate"], "t": a["t"],
                 "mode": MODE_NAMES[a["mode"]], "hash_count": a["hash_count"]}
        self.args = named

    cdef _read_dictionary(self, _Cursor cur, bint has_pruneidx):
        cdef int64_t size, nwords, nlabels, ntokens, prune
        cdef int64_t got, end = 0, word_bytes = 0, start
        start = cur.pos
        size = cur.i32("dictionary header", "the entry count")
        nwords = cur.i32("dictionary header", "the word count")
        nlabels = cur.i32("dictionary header", "the label count")
        ntokens = cur.i64("dictionary header", "the token count")
        prune = cur.i64("dictionary header", "the pruneidx size") if has_pruneidx else -1
        if size < 0 or nwords < 0 or nlabels < 0 or nwords + nlabels != size:
            raise _damaged(self.path, "dictionary header", start,
                           f"{size} entries, {nwords} words and {nlabels} labels do not add up; "
                           "the model is damaged")
        if prune < -1:
            raise _damaged(self.path, "dictionary header", start + 20,
                           f"pruneidx size {prune}; the model is damaged")
        # every entry takes at least its NUL, count and type: refuse a count the file cannot
        # hold before allocating anything for it
        if size > cur.left() // EL_FT_ENTRY_TAIL:
            raise _damaged(self.path, "dictionary header", start,
                           f"{size} entries need at least {size * EL_FT_ENTRY_TAIL} bytes but "
                           f"{cur.left()} are left; the model is truncated or damaged")
        cdef const unsigned char[::1] buf = cur.buf
        cdef const unsigned char *base = &buf[0] if buf.shape[0] else NULL
        cdef int64_t bufsize = buf.shape[0], pos = cur.pos
        with nogil:
            got = el_ft_scan_entries(base, bufsize, pos, size, &end, &word_bytes)
        if got < size:
            raise _damaged(self.path, f"dictionary entry {got + 1} of {size}", end,
                           "the file ends inside the entry (its word, count or type); the model "
                           "is truncated or damaged")
        arena = np.empty(word_bytes + size, dtype=np.uint8)
        offsets = np.empty(size + 1, dtype=np.int64)
        counts = np.empty(size, dtype=np.int64)
        types = np.empty(size, dtype=np.int8)
        cdef uint8_t[::1] a_view = arena
        cdef int64_t[::1] o_view = offsets
        cdef int64_t[::1] c_view = counts
        cdef int8_t[::1] t_view = types
        cdef char *a_ptr = <char *>&a_view[0] if a_view.shape[0] else NULL
        with nogil:
            el_ft_copy_entries(base, pos, size, a_ptr, &o_view[0],
                               &c_view[0] if size else NULL, &t_view[0] if size else NULL)
        # fastText sorts words before labels (Dictionary::threshold)
        expected = np.zeros(size, dtype=np.int8)
        expected[nwords:] = 1
        wrong = np.flatnonzero(types != expected)
        if len(wrong):
            i = int(wrong[0])
            raise _damaged(self.path, f"dictionary entry {i + 1} of {size}", pos + int(offsets[i]) + 9 * i,
                           f"entry type {int(types[i])}; the first {nwords} entries must be words "
                           f"(type 0) and the other {nlabels} labels (type 1)")
        cur.pos = end
        self.size, self.nwords, self.nlabels = size, nwords, nlabels
        self.ntokens, self.prune_size = ntokens, prune
        self.arena, self.offsets, self.counts, self.types = arena, offsets, counts, types
        self.layout["pruneidx"] = cur.pos
        if prune > 0:
            pairs = cur.array(self.buffer, "<i4", 2 * prune, "pruneidx", f"{prune} pruneidx pairs")
            pairs = pairs.reshape(-1, 2)
            keys = pairs[:, 0]
            # a later pair for the same bucket replaces an earlier one (a std::unordered_map)
            order = np.argsort(keys, kind="stable")
            sorted_keys = keys[order]
            last = np.ones(len(order), dtype=bool)
            k = len(order)
            last[:k - 1] = sorted_keys[1:] != sorted_keys[:k - 1]
            self.prune_keys = np.ascontiguousarray(sorted_keys[last], dtype=np.int32)
            self.prune_rows = np.ascontiguousarray(pairs[order[last], 1], dtype=np.int32)
        else:
            self.prune_keys = np.zeros(0, dtype=np.int32)
            self.prune_rows = np.zeros(0, dtype=np.int32)

    cdef _read_quantizer(self, _Cursor cur, str section, int64_t dim):
        at = cur.pos
        qdim = cur.i32(section, "the quantizer's dim")
        nsubq = cur.i32(section, "the quantizer's sub-quantizer count")
        dsub = cur.i32(section, "the quantizer's sub-vector size")
        lastdsub = cur.i32(section, "the quantizer's last sub-vector size")
        if (qdim != dim or nsubq < 1 or dsub < 1 or lastdsub < 1
                or (nsubq - 1) * dsub + lastdsub != dim):
            raise _damaged(self.path, section, at,
                           f"a product quantizer of dim {qdim}, {nsubq} sub-quantizers of {dsub} "
                           f"(the last {lastdsub}) does not fit vectors of dim {dim}; the model is damaged")
        centroids = cur.array(self.buffer, "<f4", 256 * dim, section, "the centroids")
        return nsubq, dsub, lastdsub, centroids

    cdef _read_matrix(self, _Cursor cur):
        cdef int64_t m, n, dim = self.args["dim"]
        at = cur.pos
        qnorm = 0
        if self.quantized:
            qnorm = cur.u8("input matrix", "the qnorm flag")
            if qnorm > 1:
                raise _damaged(self.path, "input matrix", at, f"qnorm flag {qnorm} (not 0 or 1)")
        m = cur.i64("input matrix", "the row count")
        n = cur.i64("input matrix", "the column count")
        if n != dim or m < 0:
            raise _damaged(self.path, "input matrix", at,
                           f"a matrix of {m} x {n}, but the args say dim {dim}; the model is damaged")
        self.layout["input matrix data"] = cur.pos
        if not self.quantized:
            if m > cur.left() // 4 // max(n, 1):
                raise _damaged(self.path, "input matrix", at,
                               f"a matrix of {m} x {n} float32 needs {m * n * 4} bytes but "
                               f"{cur.left()} are left; the model is truncated or its matrix size "
                               "is damaged")
            self.matrix = cur.array(self.buffer, "<f4", m * n, "input matrix", "the matrix").reshape(m, n)
        else:
            codesize = cur.i32("input matrix", "the code size")
            nsubq_at = cur.pos
            codes = cur.array(self.buffer, np.uint8, codesize, "input matrix", "the codes")
            nsubq, dsub, lastdsub, centroids = self._read_quantizer(cur, "input matrix quantizer", dim)
            if codesize != m * nsubq:
                raise _damaged(self.path, "input matrix", nsubq_at,
                               f"{codesize} code bytes for {m} rows of {nsubq} codes; the model is damaged")
            self.codes, self.centroids = codes, centroids
            self.model.nsubq, self.model.dsub, self.model.lastdsub = nsubq, dsub, lastdsub
            if qnorm:
                self.norm_codes = cur.array(self.buffer, np.uint8, m, "input matrix norms", "the norm codes")
                _, _, _, self.norm_centroids = self._read_quantizer(cur, "input matrix norm quantizer", 1)
        self.layout["after input matrix"] = cur.pos
        # every row a word can ask for must be inside the matrix
        if self.prune_size >= 0:
            if len(self.prune_rows) and (self.prune_rows.min() < 0 or self.prune_rows.max() >= m - self.nwords):
                raise _damaged(self.path, "pruneidx", self.layout["pruneidx"],
                               f"pruneidx points outside the {m - self.nwords} n-gram rows of the "
                               "matrix; the model is damaged")
            need = self.nwords
        else:
            need = self.nwords + self.args["bucket"]
        if m < need:
            raise _damaged(self.path, "input matrix", at,
                           f"a matrix of {m} rows, but the model needs {need} ({self.nwords} words "
                           f"+ {need - self.nwords} buckets); the model is damaged")
        return m

    cdef _check_output(self, _Cursor cur, bint new):
        """The output matrix is not needed for word vectors, but a file cut short in it is
        damaged all the same: check that its sizes fit, without reading it."""
        cdef int64_t m, n, dim = self.args["dim"]
        at = cur.pos
        qout = 0
        if new:
            qout = cur.u8("output matrix", "the qout flag")
            if qout > 1:
                raise _damaged(self.path, "output matrix", at, f"qout flag {qout} (not 0 or 1)")
        if qout and self.quantized:
            qnorm = cur.u8("output matrix", "the qnorm flag")
            m = cur.i64("output matrix", "the row count")
            n = cur.i64("output matrix", "the column count")
            codesize = cur.i32("output matrix", "the code size")
            cur.array(self.buffer, np.uint8, codesize, "output matrix", "the codes")
            self._read_quantizer(cur, "output matrix quantizer", dim)
            if qnorm:
                cur.array(self.buffer, np.uint8, m, "output matrix norms", "the norm codes")
                self._read_quantizer(cur, "output matrix norm quantizer", 1)
        else:
            m = cur.i64("output matrix", "the row count")
            n = cur.i64("output matrix", "the column count")
            if n != dim or m < 0:
                raise _damaged(self.path, "output matrix", at,
                               f"a matrix of {m} x {n}, but the args say dim {dim}; the model is damaged")
            cur.array(self.buffer, "<f4", m * n if m <= cur.left() // 4 // max(n, 1) else -1,
                      "output matrix", "the matrix")
        self.layout["end"] = cur.pos
        self.trailing = cur.left()

    # --- the C view -------------------------------------------------------------------
    cdef _bind(self, int64_t rows):
        cdef const float[::1] fview
        cdef const uint8_t[::1] uview
        cdef const int32_t[::1] iview
        a = self.args
        self.model.minn = a["minn"]
        self.model.maxn = a["maxn"]
        self.model.bucket = a["bucket"]
        self.model.floret = a["mode"] == "floret"
        self.model.hash_count = a["hash_count"]
        self.model.eos_subwords = self.version is None or self.version < 12
        self.model.nwords = self.nwords
        self.model.prune_size = len(self.prune_keys) if self.prune_size > 0 else self.prune_size
        if len(self.prune_keys):
            iview = self.prune_keys
            self.model.prune_keys = &iview[0]
            iview = self.prune_rows
            self.model.prune_rows = &iview[0]
        self.model.rows = rows
        self.rows = rows
        self.model.dim = a["dim"]
        if not self.quantized:
            if rows:
                fview = self.matrix.reshape(-1)
                self.model.dense = &fview[0]
        else:
            if len(self.codes):
                uview = self.codes
                self.model.codes = &uview[0]
            fview = self.centroids
            self.model.centroids = &fview[0]
            if self.norm_codes is not None:
                if len(self.norm_codes):
                    uview = self.norm_codes
                    self.model.norm_codes = &uview[0]
                fview = self.norm_centroids
                self.model.norm_centroids = &fview[0]
                if self.model.norm_codes == NULL:
                    self.model.norm_centroids = NULL

    cdef _build_index(self):
        cdef const uint8_t[::1] arena = self.arena
        cdef const int64_t[::1] off = self.offsets
        cdef int rc
        cdef const char *base = _first(arena)
        with nogil:
            rc = el_wordtable_build(&self.index, base, &off[0], self.nwords)
        if rc == -1:
            raise MemoryError("no memory for the dictionary's word index")
        if rc != 0:
            raise ValueError(f"{self.nwords} words: more than the word index holds")
        self.indexed = True

    cdef int _range(self, const char *base, const int64_t *off, const int64_t *entry, int64_t *ids,
                    Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t longest, float *out,
                    int64_t *cnt) noexcept nogil:
        """One thread's share of _run: words lo..hi-1 (looked up first when ``ids`` is given)."""
        cdef Py_ssize_t k
        cdef unsigned char *scratch = <unsigned char *>malloc(longest + 2)
        if scratch == NULL:
            for k in range(lo, hi):
                cnt[k] = -2
        else:
            if ids != NULL:
                for k in range(lo, hi):
                    ids[k] = el_wordtable_find(&self.index, base + off[k], off[k + 1] - 1 - off[k])
            el_ft_range_vectors(&self.model, base, off, entry, ids, lo, hi, out, cnt, scratch)
        free(scratch)
        return 0

    cdef _run(self, const char *base, const int64_t *off, const int64_t *entry, int64_t *ids,
              Py_ssize_t n, float *out, int64_t *cnt, Py_ssize_t threads):
        """Vectors of n words (see el_ft_range_vectors) on ``threads`` threads, each taking one
        contiguous range of words (its rows of ``out`` are its own: no shared cache lines
        but at the range ends); a small batch runs on the calling thread alone (waking
        OpenMP's threads costs more than a few words). Either ``entry`` names each word's
        dictionary entry (its row), or ``ids`` is given: word i is arena entry i and
        ``ids[i]`` is set to its dictionary row. Raises what a word's count says went
        wrong (-1 a row outside the matrix, -2 no memory)."""
        cdef Py_ssize_t nt = max(1, min(threads, (n + 255) // 256)), t, i, longest = 0
        cdef int64_t e, worst = 0
        with nogil:
            for i in range(n):
                e = entry[i] if entry != NULL else i
                if off[e + 1] - off[e] > longest:
                    longest = off[e + 1] - off[e]
            if nt == 1:
                self._range(base, off, entry, ids, 0, n, longest, out, cnt)
            else:
                for t in prange(nt, schedule='static', chunksize=1, num_threads=nt):
                    self._range(base, off, entry, ids, n * t // nt, n * (t + 1) // nt,
                                longest, out, cnt)
            for i in range(n):
                if cnt[i] < worst:
                    worst = cnt[i]
        if worst == -2:
            raise MemoryError("no memory for the subword scratch")
        if worst < 0:
            raise EmbeddingFormatError("a subword row is outside the input matrix; the model is "
                                       "damaged", path=self.path)

    # --- public -----------------------------------------------------------------------
    def find(self, bytes word):
        """Row of the word (UTF-8 bytes) in the dictionary's words, or -1."""
        return el_wordtable_find(&self.index, word, len(word))

    def vectors(self, arena, offsets, out, Py_ssize_t threads=1):
        """Vectors of the words ``arena[offsets[i]:offsets[i+1]-1]`` into ``out`` (float32,
        zeros, ``(n, dim)``), each word looked up in the dictionary first.
        Returns ``(ids, counts)``: each word's dictionary row (-1: not in it) and the number
        of subword rows averaged (int64; 0: no vector, left zeros)."""
        cdef const uint8_t[::1] a = arena
        cdef const int64_t[::1] off = offsets
        cdef float[:, ::1] o = out
        cdef Py_ssize_t n = off.shape[0] - 1
        if o.shape[0] != n or o.shape[1] != self.model.dim:
            raise ValueError(f"out must be ({n}, {self.model.dim}), not {out.shape}")
        ids = np.empty(n, dtype=np.int64)
        cdef int64_t[::1] found = ids
        counts = np.zeros(n, dtype=np.int64)
        cdef int64_t[::1] cnt = counts
        if n == 0:
            return ids, counts
        cdef const char *base = _first(a)
        self._run(base, &off[0], NULL, &found[0], n, &o[0, 0], &cnt[0], threads)
        return ids, counts

    def word_vector(self, bytes word, out):
        """The vector of one word (UTF-8 bytes) into ``out`` (float32 zeros, ``(dim,)``),
        without a batch's arrays: what ``model[word]`` needs. Returns ``(row, count)``:
        the word's dictionary row (-1: not in it) and the number of subword rows averaged."""
        cdef float[::1] o = out
        cdef Py_ssize_t n = len(word)
        cdef const char *p = word
        cdef int64_t row, c
        cdef unsigned char small[256]
        cdef unsigned char *scratch = small
        if o.shape[0] != self.model.dim:
            raise ValueError(f"out must be ({self.model.dim},), not {out.shape}")
        if n + 2 > 256:
            scratch = <unsigned char *>malloc(n + 2)
            if scratch == NULL:
                raise MemoryError("no memory for the subword scratch")
        with nogil:
            row = el_wordtable_find(&self.index, p, n)
            c = el_ft_word_vector(&self.model, p, n, row, scratch, &o[0])
        if scratch != small:
            free(scratch)
        if c < 0:
            raise EmbeddingFormatError("a subword row is outside the input matrix; the model is "
                                       "damaged", path=self.path)
        return row, c

    def entry_vectors(self, ids, out, Py_ssize_t threads=1):
        """Vectors of dictionary words by row (``ids``, each in ``[0, nwords)``) into ``out``
        (float32 zeros, ``(len(ids), dim)``), computed from the words' bytes in the file.
        Returns the number of subword rows averaged for each."""
        cdef const int64_t[::1] rows = np.ascontiguousarray(ids, dtype=np.int64)
        cdef float[:, ::1] o = out
        cdef Py_ssize_t n = rows.shape[0], i
        if o.shape[0] != n or o.shape[1] != self.model.dim:
            raise ValueError(f"out must be ({n}, {self.model.dim}), not {out.shape}")
        counts = np.zeros(n, dtype=np.int64)
        if n == 0:
            return counts
        ids = np.asarray(rows)
        if ids.min() < 0 or ids.max() >= self.nwords:
            raise IndexError(f"word rows must be in [0, {self.nwords})")
        cdef int64_t[::1] cnt = counts
        cdef const uint8_t[::1] a = self.arena
        cdef const int64_t[::1] off = self.offsets
        cdef const char *base = _first(a)
        self._run(base, &off[0], &rows[0], NULL, n, &o[0, 0], &cnt[0], threads)
        return counts

    def lookup(self, arena, offsets):
        """Dictionary rows of the words (int64, -1 when absent)."""
        cdef const uint8_t[::1] a = arena
        cdef const int64_t[::1] off = offsets
        cdef Py_ssize_t n = off.shape[0] - 1, i
        rows = np.empty(n, dtype=np.int64)
        cdef int64_t[::1] r = rows
        cdef const char *base = _first(a)
        with nogil:
            for i in range(n):
                r[i] = el_wordtable_find(&self.index, base + off[i], off[i + 1] - 1 - off[i])
        return rows

    def subwords(self, bytes word):
        """``[(start, end, row)]``: the rows of the word's subwords in fastText's order, with
        their byte span in ``b"<" + word + b">"`` (``(-1, -1)`` for the word's own row)."""
        cdef bytes w = b"<" + word + b">"
        cdef const unsigned char *wp = <const unsigned char *><const char *>w
        cdef int64_t id = el_wordtable_find(&self.index, word, len(word))
        cdef el_ft_sink s
        memset(&s, 0, sizeof(s))
        el_ft_subwords(&self.model, wp, len(w), id, &s)  # count them first
        cap = s.count
        rows = np.zeros(max(cap, 1), dtype=np.int64)
        spans = np.zeros(2 * max(cap, 1), dtype=np.int64)
        cdef int64_t[::1] rv = rows
        cdef int64_t[::1] sv = spans
        memset(&s, 0, sizeof(s))
        s.rows = &rv[0]
        s.spans = &sv[0]
        s.cap = cap
        el_ft_subwords(&self.model, wp, len(w), id, &s)
        if s.bad_row:
            raise EmbeddingFormatError("a subword row is outside the input matrix; the model is "
                                       "damaged", path=self.path)
        return [(int(spans[2 * k]), int(spans[2 * k + 1]), int(rows[k])) for k in range(cap)]


def parse(buffer, path=None, bint check_output=True):
    """Read a model from ``buffer`` (bytes-like: a memory map or bytes).

    Arrays of the result (the dense matrix, quantizer codes) are views of ``buffer``.
    ``check_output=False``: the buffer ends after the input matrix (the output matrix,
    not needed for word vectors, was checked on the whole file).

    Raises
    ------
    EmbeddingFormatError
        Naming the section and byte offset of what is truncated or damaged.
    """
    cdef ParsedModel p = ParsedModel()
    p.path = path
    p.buffer = buffer
    try:
        layout = detect_layout(memoryview(buffer)[:SNIFF_BYTES])
    except ValueError as exc:
        raise EmbeddingFormatError(str(exc), path=path) from None
    if layout is None:
        raise EmbeddingFormatError("header at byte 0: not a fastText model (no magic number, "
                                   "and the bytes are not an old-layout model's args)", path=path)
    p.version = layout.version
    p.layout = {"args": layout.args_at, "dictionary": layout.dict_at}
    p._read_args(layout)
    cur = _Cursor(buffer, layout.dict_at, path)
    new = layout.version is not None
    p._read_dictionary(cur, new)
    if new:
        p.layout["quant_input"] = cur.pos
        quant = cur.u8("header", "the quant_input flag")
        if quant > 1:
            raise _damaged(path, "header", cur.pos - 1, f"quant_input flag {quant} (not 0 or 1); "
                           "the model is damaged")
        p.quantized = quant == 1
    else:
        p.quantized = False
    if p.prune_size >= 0 and not p.quantized:
        # fastText refuses these too (issue #332: models saved by a buggy version)
        raise _damaged(path, "dictionary header", p.layout["dictionary"] + 20,
                       "a pruned dictionary with a dense matrix, which fastText refuses as an "
                       "invalid model file; download the model again")
    p.layout["input matrix"] = cur.pos
    rows = p._read_matrix(cur)
    if check_output:
        p._check_output(cur, new)
    p._bind(rows)
    p._build_index()
    return p


def fnv1a(bytes data):
    """fastText's FNV-1a of ``data`` (bytes sign-extended, as fastText does)."""
    return el_ft_fnv(data, len(data))


def murmur3_128(bytes data, uint32_t seed):
    """MurmurHash3_x64_128 of ``data``: ``(h1, h2)``."""
    cdef uint64_t out[2]
    el_ft_murmur3_128(data, len(data), seed, out)
    return int(out[0]), int(out[1])
