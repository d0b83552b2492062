"""Keras-compatible text tokenization and sequence padding.

``Tokenizer``, ``tokenizer_from_json``, ``text_to_word_sequence`` and
``pad_sequences`` give the results of Keras' own (``keras_preprocessing`` 1.1.2,
the code behind ``keras.preprocessing.text`` and ``tf.keras.preprocessing``)
for the same inputs, so a vocabulary built here numbers words exactly as a
model trained with Keras expects, and JSON written by either side is read by
the other.

How a document becomes tokens (Keras' rules, kept to the letter):

* a ``list`` is taken as already-split tokens (only lowercased, never
  filtered; empty strings stay tokens);
* with ``char_level=True`` a string is lowercased and every character,
  spaces and punctuation included, is a token;
* otherwise the string is lowercased, every character of ``filters`` is
  replaced by ``split``, the result is split on ``split`` (``str.split(split)``,
  not on any whitespace) and empty pieces are dropped.

Quirks that are part of the contract: ties in counts keep first-seen order
(a stable sort); ``word_index`` holds every word ever seen while sequences and
matrices drop indices ``>= num_words`` (or map them to the OOV token); the
OOV token, when given, is index 1; ``sequences_to_texts`` always joins with a
single space.

Deliberate differences from Keras (keras_preprocessing 1.1.2), the complete list:

1. Nonsense arguments fail always, not only when the data reaches them: an
   unknown ``mode`` (``sequences_to_matrix``/``texts_to_matrix``), ``padding``
   or ``truncating`` raises ``ValueError`` even when every sequence is empty.
2. ``num_words`` and ``maxlen`` must be integers (or None): a bool raises
   ``TypeError`` (Keras takes ``True`` as 1, cutting every row to one item), so
   does a float such as ``num_words=2.5`` (Keras compares with it); a negative
   value raises ``ValueError``.
3. ``pad_sequences(..., maxlen=0)`` returns empty rows, shape ``(n, 0)`` plus
   the vector shape, where Keras raises (a broadcast error with
   ``truncating="pre"`` for any sequence longer than one, a shape error with
   ``"post"`` for vector samples). The samples' shapes are still checked
   against the first non-empty one, as Keras' ``s[-0:]`` does.
4. A tokenizer read back with ``tokenizer_from_json`` can keep fitting (Keras'
   has plain dicts there and raises ``KeyError`` on a new word).
   ``tokenizer_from_json`` also takes the decoded ``dict``.
5. ``sequences_to_matrix`` takes any iterable of sequences (Keras needs
   ``len()``).
6. ``texts_to_sequences_generator`` reads its input ahead in batches
   (1, 2, 4, ... up to 4096 texts) and converts each batch with the
   ``word_index`` as it is when the batch is read; Keras reads one text per
   step.
7. Tokens made by the C path are ``str``: a pre-split document of ``str``
   subclasses (``numpy.str_``) with ``lower=False`` gives ``str`` keys, equal
   to Keras' but of the base type.
8. ``Tokenizer(analyzer=...)`` (tf.keras' argument) must be callable or None.
9. ``skipgrams(shuffle=True, seed=None)`` draws its seed with
   ``random.randint(0, 10**7)`` where Keras passes the float ``10e6``
   (deprecated in Python 3.10, an error from 3.12): the same number, no error.
10. ``tokenizer_from_json`` refuses (``ValueError``) a config whose ``split``
    is not text, whose ``filters`` are not text or a list of characters, or
    whose ``index_word`` lacks the OOV token's index; Keras loads such a file
    and fails at the first text (``TypeError`` or ``ValueError``) or the first unknown index
    (``KeyError``).

Everything else, including the errors Keras raises on bad documents and the
key order of every table (``to_json()`` text included), is Keras'.

Speed: the rules run in C without the GIL (``_text.pyx``, ``src/tokenize.h``):
documents are split between threads (``threads=``), tokenized, counted into a
vocabulary per thread and merged by first sighting, so any thread count gives
the same result; ``texts_to_sequences`` looks tokens up in a C copy of
``word_index`` and returns its own value objects. Documents the C path does
not take (not a ``str`` or a list of ``str``) and an ``analyzer`` use the
Python path below, batch by batch: filters replaced by ``bytes.translate`` on
the UTF-8 text with a table built once (exact, see ``_byte_table``; other
options use ``str.translate``), words split by ``str.split`` and ``filter``,
counted by the C loop behind ``collections.Counter.update``. The cyclic garbage
collector is paused while the many small, acyclic token lists are made.
``scripts/bench_tokenizer.py`` measures both against keras_preprocessing.
"""

import gc
import json
import operator
import random
from collections import OrderedDict, defaultdict
from contextlib import contextmanager
from functools import lru_cache
from hashlib import md5
from itertools import chain, islice, repeat

import numpy as np

from . import _text
from ._threads import resolve_threads
from .errors import EmbeddingFormatError, warn

try:  # the C loop behind Counter.update; counts into any dict, keeps first-seen order
    from collections import _count_elements
except ImportError:  # pragma: no cover - every CPython since 3.2 has it

    def _count_elements(mapping, iterable):
        get = mapping.get
        for elem in iterable:
            mapping[elem] = get(elem, 0) + 1


__all__ = [
    "Tokenizer",
    "tokenizer_from_json",
    "pad_sequences",
    "text_to_word_sequence",
    "one_hot",
    "hashing_trick",
    "skipgrams",
    "make_sampling_table",
]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

_MODES = ("binary", "count", "tfidf", "freq")
# documents read per batch while fitting (and converting a stream): bounds the
# memory held whatever the corpus size, large enough for every thread to get a
# long run of documents per parallel region
_FIT_BATCH = 32768
# texts_to_sequences below this many texts per word of the vocabulary stays in
# Python: the C look-up first copies the whole word_index into a C table
_C_LOOKUP_MIN_RATIO = 1 / 16


@contextmanager
def _gc_paused():
    """Pause the garbage collector; yields whether it was on.

    Tokenizing makes a few small lists per document and no reference cycles; with the
    collector on, their allocation keeps triggering collections that rescan every live
    object (the corpus included): up to half the run time. Paused, the new lists are
    scanned once, by the young-generation collection that the first allocation after
    the pause triggers."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield was_enabled
    finally:
        if was_enabled:
            gc.enable()


@lru_cache(maxsize=64)
def _byte_table(filters, split):
    """A bytes.translate table doing what the str table does, or None.

    Possible when ``split`` is one ASCII character and every filter is an ASCII
    character: in UTF-8 an ASCII byte is always that character (the bytes of
    multi-byte sequences are >= 0x80), so translating the UTF-8 bytes and
    decoding gives the str result, several times faster than str.translate
    on non-ASCII text (which looks every character up in a dict).
    """
    if not (isinstance(split, str) and len(split) == 1 and split < "\x80"):
        return None
    if not isinstance(filters, str) or not filters.isascii():
        return None
    return bytes.maketrans(filters.encode("ascii"), split.encode("ascii") * len(filters))


@lru_cache(maxsize=64)
def _cached_table(filters, split):
    return str.maketrans({c: split for c in filters})


def _translate_table(filters, split):
    # Built the way Keras builds it, so odd filters (a list, an int ordinal,
    # a multi-character entry) behave, or fail, exactly as there.
    try:
        return _cached_table(filters, split)
    except TypeError:  # unhashable filters (a list): build it uncached
        return str.maketrans({c: split for c in filters})


def _splitter(filters, lower, split):
    """A function str -> words doing text_to_word_sequence for these options."""
    try:
        btable = _byte_table(filters, split)
    except TypeError:  # unhashable filters (a list)
        btable = None
    if btable is None:
        translate = operator.methodcaller("translate", _translate_table(filters, split))

        def words(text):
            if lower:
                text = text.lower()
            return list(filter(None, translate(text).split(split)))

        return words

    def words(text):
        if lower:
            text = text.lower()
        # surrogatepass: a lone surrogate round-trips instead of failing
        b = text.encode("utf-8", "surrogatepass").translate(btable)
        return list(filter(None, b.decode("utf-8", "surrogatepass").split(split)))

    return words


def _identity(x):
    return x


def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Split a text into a list of words, as Keras does.

    Parameters
    ----------
    text : str
    filters : str
        Characters replaced by ``split`` before splitting. The default is
        ASCII punctuation (without ``'``), tab and newline.
    lower : bool
        Lowercase the text first (so filters are matched after lowercasing).
    split : str
        The separator; runs of it give no empty words.

    Returns
    -------
    list of str
    """
    return _splitter(filters, lower, split)(text)


def hashing_trick(
    text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None
):
    """Words as indices in ``[1, n)`` by hashing, as Keras' ``hashing_trick``.

    Parameters
    ----------
    text : str
    n : int
        Size of the hashing space: indices are ``hash(word) % (n - 1) + 1``
        (0 stays free for padding); different words may share an index.
    hash_function : None, "md5" or callable str -> int
        ``None`` is Python's ``hash``, which is salted per process
        (``PYTHONHASHSEED``): the indices change from one run to the next, so
        a model trained on them cannot be reused. ``"md5"`` gives the same
        indices in every process and on every machine: the reproducible choice.
    filters, lower, split
        As for ``text_to_word_sequence``.
    analyzer : callable str -> list of str, optional
        Replaces ``text_to_word_sequence`` (tf.keras' argument).

    Returns
    -------
    list of int
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5_int
    words = analyzer(text) if analyzer is not None else text_to_word_sequence(
        text, filters=filters, lower=lower, split=split
    )
    return [hash_function(w) % (n - 1) + 1 for w in words]


def _md5_int(word):
    return int(md5(word.encode()).hexdigest(), 16)


def one_hot(text, n, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None):
    """``hashing_trick`` with Python's ``hash``, as Keras' ``one_hot``.

    Despite the name, the result is a list of word indices in ``[1, n)``, not
    one-hot vectors. Python's ``hash`` is salted per process, so the indices
    differ between runs: use ``hashing_trick(..., hash_function="md5")`` for
    indices that can be reproduced.
    """
    return hashing_trick(
        text, n, hash_function=hash, filters=filters, lower=lower, split=split, analyzer=analyzer
    )


# Keras' value of Euler's constant in make_sampling_table (0.5772...), kept so the
# tables are the same numbers
_KERAS_GAMMA = 0.577


def make_sampling_table(size, sampling_factor=1e-5):
    """word2vec's sub-sampling probabilities by word rank, as Keras' ``make_sampling_table``.

    Frequencies are approximated by Zipf's law from the rank, so entry ``i``
    is the probability of keeping the ``i``-th most common word:
    ``min(1, sqrt(f) / f)`` with ``f = sampling_factor * rank * (log(rank) + gamma) + ...``.
    Pass it to ``skipgrams(sampling_table=...)``; word indices from a fitted
    ``Tokenizer`` are ranks (1 = most common).

    Returns
    -------
    numpy.ndarray of float64, shape (size,)
    """
    rank = np.arange(size, dtype=np.float64)
    rank[:1] = 1.0
    inv_frequency = rank * (np.log(rank) + _KERAS_GAMMA) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_frequency
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(
    sequence,
    vocabulary_size,
    window_size=4,
    negative_samples=1.0,
    shuffle=True,
    categorical=False,
    sampling_table=None,
    seed=None,
):
    """Skip-gram training pairs from one sequence of word indices, as Keras' ``skipgrams``.

    Every word ``w`` (index 0, padding, is skipped) is paired with each word
    within ``window_size`` of it (label 1), then ``negative_samples`` times as
    many pairs of a shuffled first word and a random index in
    ``[1, vocabulary_size)`` are added (label 0). Randomness comes from Python's
    ``random`` module, drawn in Keras' order, so after ``random.seed(s)`` the
    result is Keras' to the pair.

    Parameters
    ----------
    sequence : sequence of int
    vocabulary_size : int
        Largest index + 1.
    window_size : int
    negative_samples : float
        0 for no negative pairs.
    shuffle : bool
        Shuffle pairs and labels together (seeded with ``seed``, else a seed
        drawn from ``random``).
    categorical : bool
        Labels ``[0, 1]``/``[1, 0]`` instead of 1/0.
    sampling_table : array, optional
        Word ``w`` is kept with probability ``sampling_table[w]``
        (see ``make_sampling_table``).
    seed : int, optional

    Returns
    -------
    couples : list of [int, int]
    labels : list of int (or of [int, int])
    """
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    couples = []
    n = len(sequence)
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(n, i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
    labels = [list(positive) for _ in couples] if categorical else [positive] * len(couples)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        firsts = [c[0] for c in couples]
        random.shuffle(firsts)
        couples += [
            [firsts[i % len(firsts)], random.randint(1, vocabulary_size - 1)] for i in range(count)
        ]
        labels += [negative] * count
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10**7)  # Keras' 10e6, a float that Python 3.12 refuses
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels


def _by_count(counts):
    """Positions of ``counts`` from the largest count down, equal counts in their order:
    sorted(..., reverse=True)'s order (stable also reversed). One sort of unique int64
    keys (count rank, then position), which NumPy sorts with SIMD, instead of a stable
    sort of the counts."""
    n = len(counts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    top = int(counts.max())
    if int(counts.min()) < 0 or (top + 1) * n >= 2**63:
        return np.argsort(-counts, kind="stable")
    keys = (top - counts) * n + np.arange(n, dtype=np.int64)
    keys.sort()
    return keys % n


class Tokenizer:
    """Turn texts into sequences of word indices, as Keras' ``Tokenizer``.

    Parameters
    ----------
    num_words : int or None
        Sequences and matrices keep only indices below ``num_words`` (the
        ``num_words - 1`` most frequent words); ``word_index`` still holds
        every word. ``None`` or 0: no limit.
    filters : str
        Characters removed (replaced by ``split``) before splitting.
    lower : bool
        Lowercase texts (and token lists) first.
    split : str
        Word separator.
    char_level : bool
        Every character is a token.
    oov_token : str or None
        If given, it takes index 1 and stands for unknown words (and, with
        ``num_words``, for words beyond the limit) in sequences.
    document_count : int
        Documents seen so far (as in a tokenizer read back from JSON).

    Attributes
    ----------
    word_counts : OrderedDict
        word -> occurrences, in first-seen order.
    word_docs : defaultdict(int)
        word -> number of documents containing it.
    word_index, index_word : dict
        word -> index and back; index 0 is never used (padding).
    index_docs : defaultdict(int)
        index -> number of documents containing it.
    document_count : int

    Examples
    --------
    >>> tok = Tokenizer(num_words=3, oov_token="<OOV>")
    >>> tok.fit_on_texts(["The cat sat.", "The dog!"])
    >>> tok.word_index
    {'<OOV>': 1, 'the': 2, 'cat': 3, 'sat': 4, 'dog': 5}
    >>> tok.texts_to_sequences(["the bird sat"])
    [[2, 1, 1]]
    """

    def __init__(
        self,
        num_words=None,
        filters=DEFAULT_FILTERS,
        lower=True,
        split=" ",
        char_level=False,
        oov_token=None,
        document_count=0,
        analyzer=None,
        **kwargs,
    ):
        if "nb_words" in kwargs:  # Keras 1 name, still accepted by Keras 2
            warn("The `nb_words` argument in `Tokenizer` has been renamed `num_words`.")
            num_words = kwargs.pop("nb_words")
        if analyzer is not None and not callable(analyzer):
            raise TypeError(f"analyzer must be a callable str -> tokens or None, got {analyzer!r}")
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
        if num_words is not None:
            if isinstance(num_words, bool):
                raise TypeError(f"num_words must be an int or None, got {num_words!r}")
            num_words = operator.index(num_words)
            if num_words < 0:
                raise ValueError(
                    f"num_words must be >= 0 (0 or None means no limit), got {num_words}"
                )
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}
        self.analyzer = analyzer

    def __repr__(self):
        return (
            f"{type(self).__name__}(num_words={self.num_words!r}, oov_token={self.oov_token!r}, "
            f"lower={self.lower!r}, char_level={self.char_level!r}, "
            f"words={len(self.word_index)}, documents={self.document_count})"
        )

    # ------------------------------------------------------------------ tokens
    def _tokenize_fn(self):
        """A function document -> tokens following Keras' rules for the current options."""
        lower = self.lower
        if self.char_level:  # the (lowercased) string itself: each character a token
            words = operator.methodcaller("lower") if lower else _identity
        elif self.analyzer is not None:  # tf.keras: the raw string, neither lowered nor filtered
            words = self.analyzer
        else:
            # read the options now: attributes may be changed between calls, as in Keras
            words = _splitter(self.filters, lower, self.split)

        def tokens(text):
            if isinstance(text, list):
                return [t.lower() for t in text] if lower else text
            return words(text)

        return tokens

    # --------------------------------------------------------------- fitting
    def fit_on_texts(self, texts, threads=None):
        """Update the vocabulary from texts, then renumber every word.

        Parameters
        ----------
        texts : iterable
            Strings, or lists of tokens (taken as already split), or a mix;
            any iterable (a file read line by line, a generator) is read once,
            in batches: only the counts are kept, not the texts.
        threads : int or None
            Threads tokenizing in parallel (None: all cores). The result is the
            same for any number.
        """
        ranking = self._count_texts(texts, threads)
        with _gc_paused():
            self._renumber(ranking)

    def _count_texts(self, texts, threads=None):
        """The counting half of fit_on_texts: word_counts, word_docs, document_count.

        Returns ``(words, counts)`` when word_counts is exactly those (a first fit
        done in C), which lets ``_renumber`` rank with NumPy; else None.
        """
        options = self._c_options()
        ranking = None
        nthreads = resolve_threads(threads)
        tokens = None
        counts = {}  # a plain dict: the C counting loop takes its fast path
        counter = None  # the C counts of the batches since the last Python batch
        it = iter(texts)
        with _gc_paused():
            try:
                while True:
                    batch = list(islice(it, _FIT_BATCH))
                    if not batch:
                        break
                    docs = _text.gather(batch) if options is not None else None
                    if docs is not None:
                        if counts:  # keep first-seen order: earlier Python counts first
                            self._merge_counts(counts)
                            counts = {}
                            ranking = None
                        if counter is None:
                            counter = _text.Counter(options, nthreads)
                        counter.add(docs)
                        self.document_count += len(batch)
                        continue
                    # a document the C path does not take (not a str or a list of
                    # str), or options it does not (an analyzer): Keras' way in Python
                    if counter is not None:
                        self._merge_counter(counter)
                        counter = None
                    ranking = None
                    if tokens is None:
                        tokens = self._tokenize_fn()
                    seqs = list(map(tokens, batch))
                    _count_elements(counts, chain.from_iterable(seqs))
                    # set() per document as Keras builds it, so word_docs gets its
                    # keys in the very same order and to_json() writes the same text
                    _count_elements(self.word_docs, chain.from_iterable(map(set, seqs)))
                    self.document_count += len(batch)
                    del seqs
            finally:
                # on an error (a document that is not text, say) the batches done so
                # far stay counted, consistent with word_docs and document_count
                if counter is not None:
                    ranking = self._merge_counter(counter)
                if counts:
                    self._merge_counts(counts)
                    ranking = None
        return ranking

    def _c_options(self):
        """The options in C form, or None where the Python path must do the work."""
        if self.analyzer is not None:
            return None
        try:
            return _text.Options(self.filters, self.split, self.lower, self.char_level)
        except _text.NotSupported:
            return None

    def _merge_counter(self, counter):
        """Add a C counter's counts; ``(words, counts)`` if they are now all of word_counts."""
        words, counts, docs, first_doc, records, _ = counter.result()
        docs_order = _text.word_docs_order(words, first_doc, records)
        ranking = None
        if not self.word_counts:
            _text.fill_counts(self.word_counts, words, counts, np.arange(len(words), dtype=np.int64))
            ranking = words, counts
        else:
            self._merge_counts(dict(zip(words, counts.tolist())))
        wd = self.word_docs
        if not wd:
            _text.fill_counts(wd, words, docs, docs_order)
        else:
            doc_words = [words[i] for i in docs_order.tolist()]
            doc_counts = docs[docs_order].tolist()
            get = wd.get
            wd.update([(w, get(w, 0) + c) for w, c in zip(doc_words, doc_counts)])
        return ranking

    def _merge_counts(self, counts):
        wc = self.word_counts
        if not wc:
            wc.update(counts)
        else:
            get = wc.get
            # existing words keep their place, new ones follow in first-seen order
            wc.update([(w, get(w, 0) + c) for w, c in counts.items()])

    def _renumber(self, ranking=None):
        wc = self.word_counts
        if ranking is not None and len(ranking[0]) == len(wc):
            # word_counts is exactly these words and counts, in first-seen order
            words, counts = ranking
            ranked = _text.take(words, _by_count(counts))
        else:
            # sorted() is stable also with reverse=True: equal counts keep first-seen order
            ranked = sorted(wc, key=wc.__getitem__, reverse=True)
        vocab = ranked if self.oov_token is None else [self.oov_token] + ranked
        word_docs = self.word_docs
        if type(word_docs) in (dict, defaultdict) and isinstance(self.index_docs, dict):
            # the three tables in one pass in C, Keras' semantics (see index_tables)
            self.word_index, self.index_word = _text.index_tables(vocab, word_docs, self.index_docs)
            return
        # dict(zip()) like Keras: an OOV token that is also a word keeps the first
        # position but the later index, and index 1 is then unused
        self.word_index = word_index = dict(zip(vocab, range(1, len(vocab) + 1)))
        self.index_word = dict(zip(word_index.values(), word_index.keys()))
        self.index_docs.update(zip(map(word_index.__getitem__, word_docs), word_docs.values()))

    def fit_on_sequences(self, sequences):
        """Update the document counts from sequences of word indices.

        Needed before ``sequences_to_matrix(mode="tfidf")`` when the tokenizer
        was never fitted on texts.

        Parameters
        ----------
        sequences : sized iterable of sequences of int
        """
        self.document_count += len(sequences)
        _count_elements(self.index_docs, chain.from_iterable(map(set, sequences)))

    # ----------------------------------------------------- texts -> sequences
    def texts_to_sequences(self, texts, threads=None):
        """Turn each text into a list of word indices.

        Unknown words are dropped, or become the OOV index; words with an
        index ``>= num_words`` are dropped, or become the OOV index.

        Parameters
        ----------
        texts : iterable of str or of lists of tokens
        threads : int or None
            Threads tokenizing in parallel (None: all cores, and the C path
            whatever the number of texts).

        Returns
        -------
        list of list of int
        """
        if not isinstance(texts, list):
            texts = list(texts)  # a generator too: the result is a list anyway
        if threads is not None or _c_lookup_pays(texts, self.word_index):
            plan = self._lookup_plan()
            if plan is not None:
                result = _lookup_lists(plan, texts, resolve_threads(threads))
                if result is not None:
                    return result
        return _convert_all(self._sequence_fn, texts, self.word_index)

    def texts_to_sequences_generator(self, texts, threads=None):
        """Yield ``texts_to_sequences`` one text at a time.

        The texts are read ahead in batches (1, 2, 4, ... up to a few thousand)
        that are converted together; each batch uses the ``word_index`` as it is
        when the batch is read.
        """
        it = iter(texts)
        nthreads = resolve_threads(threads)
        size = 1
        plan = python = None
        while True:
            batch = list(islice(it, size))
            if not batch:
                return
            size = min(2 * size, 4096)
            if plan is None and size >= 64:
                plan = self._lookup_plan() or False
            result = _lookup_lists(plan, batch, nthreads) if plan else None
            if result is None:
                python = python or self._sequence_fn()
                result = list(map(python, batch))
            yield from result

    def _lookup_plan(self):
        """What the C look-up needs (a snapshot of word_index), or None for the Python path."""
        options = self._c_options()
        if options is None:
            return None
        num_words = self.num_words
        has_oov = self.oov_token is not None
        try:
            num_words = operator.index(num_words) if num_words else 0
            oov_value = self.word_index.get(self.oov_token)
            if num_words > 0 and has_oov == (oov_value is not None):
                # a word past the limit then comes out as an unknown word does (the
                # OOV index, or nothing): the table holds only the words under it
                table = _text.Table(self.word_index, num_words)
                num_words = 0
            else:
                table = _text.Table(self.word_index)
        except (TypeError, _text.NotSupported):
            return None  # an odd limit or index: Keras' own comparisons, in Python
        return options, table, num_words, has_oov, oov_value

    def _sequence_fn(self, cut=False):
        """A function text -> indices, Keras' rules for the current state.

        With ``cut``, words at or past ``num_words`` are first removed from a
        copy of ``word_index``, so a C ``dict.get`` does the whole per-word job.
        """
        tokens = self._tokenize_fn()
        get = self.word_index.get
        num_words = self.num_words
        has_oov = self.oov_token is not None
        oov = self.word_index.get(self.oov_token)
        if cut and num_words and (has_oov == (oov is not None)):
            try:
                kept = {w: i for w, i in self.word_index.items() if i < num_words}
            except TypeError:  # an index that is not a number: Keras' way, word by word
                pass
            else:
                get = kept.get
                num_words = None  # both cases below then do what Keras does with the limit
        if not num_words:
            if has_oov:
                return lambda text: list(map(get, tokens(text), repeat(oov)))
            return lambda text: [i for i in map(get, tokens(text)) if i is not None]
        if not has_oov and oov is None:
            return lambda text: [
                i for i in map(get, tokens(text)) if i is not None and i < num_words
            ]
        if has_oov and oov is not None:
            return lambda text: [
                oov if i is None or i >= num_words else i for i in map(get, tokens(text))
            ]

        def general(text):  # an OOV token never fitted, or None used as a word
            vect = []
            for i in map(get, tokens(text)):
                if i is None:
                    if has_oov:
                        vect.append(oov)
                elif i >= num_words:
                    if oov is not None:
                        vect.append(oov)
                else:
                    vect.append(i)
            return vect

        return general

    # ----------------------------------------------------- sequences -> texts
    def sequences_to_texts(self, sequences):
        """Turn each sequence of word indices back into a space-joined text.

        Indices not in ``index_word`` (0, for one) are dropped, or become the
        OOV token; indices ``>= num_words`` likewise.

        Parameters
        ----------
        sequences : iterable of sequences of int

        Returns
        -------
        list of str
        """
        return _convert_all(self._text_fn, sequences, self.index_word)

    def sequences_to_texts_generator(self, sequences):
        """Yield ``sequences_to_texts`` one sequence at a time (lazily)."""
        yield from map(self._text_fn(), sequences)

    def _text_fn(self, cut=False):
        """A function indices -> text, Keras' rules for the current state (``cut``: see
        ``_sequence_fn``)."""
        index_word = self.index_word
        get = index_word.get
        num_words = self.num_words
        has_oov = self.oov_token is not None
        oov = self.word_index.get(self.oov_token)
        join = " ".join
        if cut and num_words and (oov in index_word if has_oov else oov is None):
            oov_word = index_word.get(oov)
            try:
                kept = {i: w for i, w in index_word.items() if i < num_words}
            except TypeError:  # a key that is not a number: the general path below
                kept = None
            if kept is not None and has_oov:
                return lambda seq: join(list(map(kept.get, seq, repeat(oov_word))))
            if kept is not None:
                return lambda seq: join([w for w in map(kept.get, seq) if w is not None])
        if not has_oov and not num_words:
            return lambda seq: join([w for w in map(get, seq) if w is not None])
        if not has_oov and oov is None:
            return lambda seq: join(
                [w for n in seq if (w := get(n)) is not None and n < num_words]
            )
        missing = object()
        oov_word = index_word.get(oov, missing) if has_oov and oov is not None else missing
        if oov_word is not missing:
            if num_words:
                return lambda seq: join(
                    [oov_word if (w := get(n)) is None or n >= num_words else w for n in seq]
                )
            return lambda seq: join(list(map(get, seq, repeat(oov_word))))

        def general(seq):  # the rare cases, spelled out as Keras does them (KeyError included)
            vect = []
            for n in seq:
                w = get(n)
                if w is not None:
                    if num_words and n >= num_words:
                        if oov is not None:
                            vect.append(index_word[oov])
                    else:
                        vect.append(w)
                elif has_oov:
                    vect.append(index_word[oov])
            return join(vect)

        return general

    # --------------------------------------------------------------- matrices
    def texts_to_matrix(self, texts, mode="binary", threads=None):
        """A ``(len(texts), num_words)`` float64 matrix of the texts.

        Parameters
        ----------
        texts : iterable of str or of lists of tokens
        mode : {"binary", "count", "tfidf", "freq"}
        threads : int or None
            Threads tokenizing in parallel (see ``texts_to_sequences``).
        """
        return self.sequences_to_matrix(self.texts_to_sequences(texts, threads=threads), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A ``(len(sequences), num_words)`` float64 matrix of the sequences.

        Columns are word indices (``num_words``, else ``len(word_index) + 1``).
        ``binary``: 1 where the word occurs; ``count``: occurrences; ``freq``:
        occurrences / sequence length (dropped indices included in the
        length, as in Keras); ``tfidf``: ``(1 + log(count)) *
        log(1 + document_count / (1 + index_docs[j]))``.

        Parameters
        ----------
        sequences : iterable of sequences of int
        mode : {"binary", "count", "tfidf", "freq"}
        """
        if mode not in _MODES:
            raise ValueError(f"Unknown vectorization mode: {mode!r}; expected one of {_MODES}")
        if not self.num_words:
            if self.word_index:
                num_words = len(self.word_index) + 1
            else:
                raise ValueError(
                    "Specify a dimension (`num_words` argument), or fit on some text data first."
                )
        else:
            num_words = self.num_words
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        if not hasattr(sequences, "__len__"):
            sequences = list(sequences)
        x = np.zeros((len(sequences), num_words))
        lengths = np.fromiter(map(len, sequences), dtype=np.intp, count=len(sequences))
        flat = _int_array(sequences, int(lengths.sum()))
        if flat is None or (flat.size and flat.min() < 0):
            # negative or non-int indices: Keras' own loop, wrap-around included
            self._matrix_loop(x, sequences, mode, num_words)
            return x
        rows = np.repeat(np.arange(len(sequences), dtype=np.int64), lengths)
        keep = flat < num_words
        # one (row, column, count) per distinct cell: the work follows the
        # tokens, never the (often huge, mostly zero) matrix
        cells, counts = np.unique(rows[keep] * num_words + flat[keep], return_counts=True)
        r, c = np.divmod(cells, num_words)
        if mode == "binary":
            values = 1.0
        elif mode == "count":
            values = counts.astype(np.float64)
        elif mode == "freq":
            values = counts / lengths[r]
        else:
            values = (1.0 + np.log(counts.astype(np.float64))) * self._idf(c)
        x[r, c] = values
        return x

    def _idf(self, cols):
        uniq, inverse = np.unique(cols, return_inverse=True)
        docs = np.fromiter(
            map(self.index_docs.get, uniq.tolist(), repeat(0)), dtype=np.float64, count=len(uniq)
        )
        return np.log(1.0 + self.document_count / (1.0 + docs))[inverse]

    def _matrix_loop(self, x, sequences, mode, num_words):
        for i, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts = {}
            for j in seq:
                if j >= num_words:
                    continue
                counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                if mode == "count":
                    x[i][j] = c
                elif mode == "freq":
                    x[i][j] = c / len(seq)
                elif mode == "binary":
                    x[i][j] = 1
                else:
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[i][j] = tf * idf

    # ------------------------------------------------------------------ JSON
    def get_config(self):
        """The configuration as Keras writes it: options, and the word tables as JSON strings.

        Returns
        -------
        dict
        """
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """The tokenizer as Keras' JSON text; read it back with ``tokenizer_from_json``.

        Parameters
        ----------
        **kwargs
            Passed to ``json.dumps`` (``indent=2``, ...).

        Returns
        -------
        str
        """
        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )


def _convert_all(make_fn, items, table):
    """``list(map(make_fn(cut), items))``; ``cut`` (see ``_sequence_fn``) when many items.

    Many items are worth one pass over ``table`` to take the ``num_words``
    check out of the per-word work.
    """
    cut = hasattr(items, "__len__") and len(items) * 16 >= len(table)
    with _gc_paused():
        return list(map(make_fn(cut), items))


def _c_lookup_pays(texts, table):
    return hasattr(texts, "__len__") and len(texts) >= len(table) * _C_LOOKUP_MIN_RATIO


def _lookup_codes(plan, texts, nthreads):
    """(table ids with -1 for the OOV index, tokens per text), or None: the Python path."""
    options, table, num_words, has_oov, oov_value = plan
    docs = _text.gather(texts)
    if docs is None:
        return None
    return _text.lookup(
        options, table, docs, num_words, has_oov, oov_value is not None, nthreads
    )


def _lookup_lists(plan, texts, nthreads):
    if nthreads > 1 and len(texts) >= 2 * _PIPELINE_DOCS:
        return _lookup_lists_pipelined(plan, texts, nthreads)
    codes = _lookup_codes(plan, texts, nthreads)
    if codes is None:
        return None
    with _gc_paused():
        return _text.to_lists(codes[0], codes[1], plan[1].values, plan[4])


# Documents per piece of a pipelined look-up: enough that a piece's kernel work (~2 ms
# for ASCII text) outweighs handing it between threads, few enough that the lists of the
# first piece start early and those of the last one finish soon after the kernels.
_PIPELINE_DOCS = 4096


def _lookup_lists_pipelined(plan, texts, nthreads):
    """texts_to_sequences on several threads: the look-ups run in C without the GIL, piece
    by piece, on ``nthreads - 1`` helper threads and this one, while this thread turns the
    pieces already looked up into Python lists, in order. Making the lists needs the GIL
    and is a third of the work; done after all the look-ups (as _lookup_lists does for one
    thread) it is time the other cores wait. The helpers never take the GIL while there
    are pieces to claim. The result is the same as on one thread."""
    import threading

    options, table, num_words, has_oov, oov_value = plan
    docs = _text.gather(texts)
    if docs is None:
        return None  # a document the C path does not take: the Python path, whole
    job = _text.LookupPieces(options, table, docs, num_words, has_oov, oov_value is not None,
                             _PIPELINE_DOCS)
    helpers = [threading.Thread(target=job.help, daemon=True) for _ in range(nthreads - 1)]
    for thread in helpers:
        thread.start()
    out = []
    try:
        with _gc_paused() as collecting:
            for i in range(len(job)):
                job.wait(i)  # runs unclaimed pieces meanwhile
                ids, lengths = job.result(i)
                out.extend(_text.to_lists(ids, lengths, table.values, oov_value))
                if collecting:
                    # the young-generation scan of this piece's lists, which would
                    # otherwise run over all of them after the last piece, on one
                    # thread: here it overlaps the helpers' look-ups (the same scan,
                    # piece by piece; 0.02 s of the ASCII benchmark's 0.11 s)
                    gc.collect(0)
    finally:
        job.stop()  # on an error: the helpers end with the piece they hold
        for thread in helpers:
            thread.join()
    return out


def texts_to_padded(tokenizer, texts, pad_options, threads=None):
    """``pad_sequences(tokenizer.texts_to_sequences(texts), **pad_options)`` without the lists.

    The C look-up's indices go straight into the padded array (what
    ``embload.dask`` computes per partition); where that path does not apply
    (an analyzer, odd documents or indices, a dtype the indices do not fit) the
    lists are made and padded as usual, so the result is always the same.
    """
    if not isinstance(texts, list):
        texts = list(texts)
    nthreads = resolve_threads(threads)
    plan = tokenizer._lookup_plan()
    codes = _lookup_codes(plan, texts, nthreads) if plan is not None else None
    maxlen = pad_options.get("maxlen")
    dtype = np.dtype(pad_options.get("dtype", "int32"))
    oov_value = plan[4] if plan is not None else None
    limits = _text._RANGES.get(dtype)
    if codes is None or maxlen is None or limits is None or not texts:
        return pad_sequences(tokenizer.texts_to_sequences(texts, threads=threads), **pad_options)
    ids, lengths = codes
    numbers = plan[1].numbers
    if (ids < 0).any():
        if not isinstance(oov_value, int) or isinstance(oov_value, bool):
            return pad_sequences(tokenizer.texts_to_sequences(texts, threads=threads), **pad_options)
        values = np.where(ids < 0, oov_value, numbers[np.maximum(ids, 0)]) if ids.size else ids
    else:
        values = numbers[ids]
    if values.size and (values.min() < limits[0] or values.max() > limits[1]):
        return pad_sequences(tokenizer.texts_to_sequences(texts, threads=threads), **pad_options)
    padding = pad_options.get("padding", "pre")
    truncating = pad_options.get("truncating", "pre")
    # the same validation and fill value as pad_sequences, on an empty batch
    x = pad_sequences([[]] * len(texts), **pad_options)
    if maxlen == 0:
        return x
    kept = np.minimum(lengths, maxlen)
    starts = np.cumsum(lengths) - lengths
    first = starts + lengths - kept if truncating == "pre" else starts
    out_start = np.cumsum(kept) - kept
    total = int(kept.sum())
    src = np.repeat(first, kept) + (np.arange(total) - np.repeat(out_start, kept))
    cols = np.arange(maxlen)
    mask = cols < kept[:, None] if padding == "post" else cols >= (maxlen - kept)[:, None]
    x[mask] = values[src].astype(dtype)
    return x


def _int_array(sequences, count):
    """All indices as one int64 array, or None unless every one is a plain integer."""
    types = set(map(type, chain.from_iterable(sequences)))
    # bool is an int, but numpy reads x[i][True] as a mask: leave it to the loop
    for t in types:
        if not issubclass(t, (int, np.integer)) or issubclass(t, (bool, np.bool_)):
            return None
    try:
        return np.fromiter(chain.from_iterable(sequences), dtype=np.int64, count=count)
    except (TypeError, ValueError, OverflowError):
        return None


def _json_table(config, key, source):
    text = config.pop(key, None)
    if text is None:
        return {}
    try:
        table = json.loads(text) if isinstance(text, (str, bytes, bytearray)) else text
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: config[{key!r}] is not valid JSON: {exc}") from exc
    if not isinstance(table, dict):
        raise ValueError(f"{source}: config[{key!r}] must be a JSON object, not {type(table).__name__}")
    return table


def tokenizer_from_json(json_string):
    """Read a tokenizer from the JSON of ``Tokenizer.to_json()``, Keras' or ours.

    Parameters
    ----------
    json_string : str, bytes or dict
        The JSON text (or the dict it decodes to).

    Returns
    -------
    Tokenizer
    """
    source = "tokenizer JSON"
    if isinstance(json_string, dict):
        data = json_string
    else:
        try:
            data = json.loads(json_string)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source} is not valid JSON: {exc}") from exc
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ValueError(
            f'{source} has no "config" object; expected the output of Tokenizer.to_json(), '
            f"i.e. {{\"class_name\": \"Tokenizer\", \"config\": {{...}}}}, got keys "
            f"{sorted(data) if isinstance(data, dict) else type(data).__name__}"
        )
    config = dict(config)
    with _gc_paused():
        try:
            return _tokenizer_from_config(config, source)
        except TypeError as exc:  # an unknown option or a value of the wrong type: bad input
            raise ValueError(f"{source}: its config does not make a Tokenizer: {exc}") from exc


def word_index_from_tokenizer_json(text, path):
    """The ``word_index`` of a Keras tokenizer JSON text, or of a plain JSON object.

    The one reader of tokenizer JSON for the package (``load_aligned`` takes a
    path to such a file). Accepts ``Tokenizer.to_json()`` output (Keras' or
    ours: ``config.word_index`` is itself JSON text, or an object) and a plain
    object ``{word: index}``.

    Parameters
    ----------
    text : str
        The file's content.
    path : str
        Named in every error.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        Naming ``path``: not JSON, no ``word_index`` in a ``config``, or not an object.
    """
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(obj, dict) and isinstance(obj.get("config"), dict):
        return tokenizer_word_index(obj["config"], path)
    if isinstance(obj, dict):
        return obj
    raise ValueError(
        f"{path}: JSON holds a {type(obj).__name__}; expected a Keras tokenizer "
        "JSON or an object {word: row}"
    )


def tokenizer_word_index(config, path):
    """The ``word_index`` of a Keras tokenizer's ``config`` (JSON text inside the JSON, as
    Keras writes it, or an object): the one reader of it, for :func:`word_index_from_tokenizer_json`
    and :mod:`embload.vocabulary`. Errors are ``EmbeddingFormatError`` (a ``ValueError``)
    naming ``path``."""
    inner = config.get("word_index")
    if inner is None:
        raise EmbeddingFormatError("a JSON file with a 'config' but no 'word_index' in it; "
                                   "expected a Keras tokenizer JSON (Tokenizer.to_json())", path=path)
    if isinstance(inner, str):  # Keras stores it as a JSON string inside the JSON
        try:
            inner = json.loads(inner)
        except json.JSONDecodeError as exc:
            raise EmbeddingFormatError(f"config.word_index is not valid JSON ({exc})", path=path) from None
    if not isinstance(inner, dict):
        raise EmbeddingFormatError(f"config.word_index is a {type(inner).__name__}, not an object", path=path)
    return inner


def _tokenizer_from_config(config, source):
    word_counts = _json_table(config, "word_counts", source)
    word_docs = _json_table(config, "word_docs", source)
    index_docs = _json_table(config, "index_docs", source)
    index_word = _json_table(config, "index_word", source)
    word_index = _json_table(config, "word_index", source)
    try:
        # JSON object keys are strings: Keras' integer keys come back as such
        index_docs = dict(zip(map(int, index_docs), index_docs.values()))
        index_word = dict(zip(map(int, index_word), index_word.values()))
    except ValueError as exc:
        raise ValueError(f"{source}: an index key is not an integer: {exc}") from exc
    _check_text_options(config, source)
    oov = config.get("oov_token")
    if oov is not None and isinstance(word_index, dict) and oov in word_index:
        # sequences_to_texts writes the OOV token through index_word: a file whose
        # index_word lacks it loads in Keras and fails at the first unknown index
        if word_index[oov] not in index_word:
            raise ValueError(
                f"{source}: index_word has no entry for the OOV token's index "
                f"{word_index[oov]!r} (word_index[{oov!r}]); the tables disagree"
            )
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(word_counts)
    tokenizer.word_docs = defaultdict(int, word_docs)
    tokenizer.index_docs = defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer


def _check_text_options(config, source):
    """A saved config's ``split`` is text and its ``filters`` text or a list of characters
    (code points): anything else loads in Keras and fails at the first text."""
    split = config.get("split", " ")
    if not isinstance(split, str):
        raise ValueError(f"{source}: split must be text, got {type(split).__name__} {split!r}")
    filters = config.get("filters", "")
    if isinstance(filters, str):
        return
    if isinstance(filters, list) and all(
        (isinstance(c, str) and len(c) == 1) or (type(c) is int and 0 <= c < 0x110000)
        for c in filters
    ):
        return
    raise ValueError(
        f"{source}: filters must be text or a list of characters, got "
        f"{type(filters).__name__} {filters!r:.80}"
    )


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Pad (and cut) sequences to one length, as Keras' ``pad_sequences``.

    Parameters
    ----------
    sequences : sized iterable of sequences
        Sequences of numbers, or of equal-shaped vectors.
    maxlen : int or None
        Length of the output rows; default the longest sequence.
    dtype : str or dtype
        Output type; use ``object`` for strings of any length.
    padding : {"pre", "post"}
        Pad before or after each sequence.
    truncating : {"pre", "post"}
        Cut longer sequences at the beginning or at the end.
    value : float or str
        The padding value.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sequences), maxlen) + vector shape``.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if truncating not in ("pre", "post"):
        raise ValueError('Truncating type "%s" not understood' % (truncating,))
    if padding not in ("pre", "post"):
        raise ValueError('Padding type "%s" not understood' % (padding,))
    num_samples = len(sequences)
    try:
        lengths = list(map(len, sequences))
    except TypeError:
        for pos, s in enumerate(sequences):
            if not hasattr(s, "__len__"):
                raise ValueError(
                    "`sequences` must be a list of iterables. Found non-iterable: "
                    f"{s} (at position {pos})"
                ) from None
        raise
    sample_shape = ()
    first = next((i for i, n in enumerate(lengths) if n), None)
    if first is not None:
        # Keras takes the vector shape from the first non-empty sequence
        sample_shape = np.asarray(next(islice(iter(sequences), first, None))).shape[1:]
    if maxlen is None:
        if not lengths:
            raise ValueError("`sequences` is empty: pass `maxlen` to get a (0, maxlen) array.")
        maxlen = max(lengths)
    else:
        if isinstance(maxlen, (bool, np.bool_)):
            # operator.index(True) is 1: a flag passed by mistake would cut every row to one
            raise TypeError(f"maxlen must be an int or None, got {maxlen!r}")
        maxlen = operator.index(maxlen)
        if maxlen < 0:
            raise ValueError(f"maxlen must be >= 0, got {maxlen}")

    is_dtype_str = np.issubdtype(dtype, np.str_)
    if isinstance(value, str) and np.dtype(dtype) != object and not is_dtype_str:
        raise ValueError(
            "`dtype` {} is not compatible with `value`'s type: {}\n"
            "You should set `dtype=object` for variable length strings.".format(dtype, type(value))
        )

    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    if first is None:
        return x
    if maxlen == 0:
        # nothing is copied, but the samples must still agree in shape: Keras (whose
        # s[-0:] is the whole sequence) checks them all, and so do we
        for idx, s in enumerate(sequences):
            if len(s):
                _check_sample_shape(np.asarray(s).shape[1:], idx, sample_shape)
        return x
    cut = slice(-maxlen, None) if truncating == "pre" else slice(None, maxlen)

    if isinstance(sequences, np.ndarray) and sequences.ndim >= 2:
        # every row has the same length: one cast of the whole block
        block = np.asarray(sequences[:, cut], dtype=dtype)
        if padding == "post":
            x[:, : block.shape[1]] = block
        else:
            x[:, maxlen - block.shape[1] :] = block
        return x

    if not sample_shape and x.dtype.kind in "biufc":
        # lists of Python ints straight into the rows, in C (it checks each row is a
        # list); else, for lists of other scalars, one NumPy conversion
        rows = sequences if isinstance(sequences, list) else list(sequences)
        if _text.pad_lists(x, rows, maxlen, padding == "post", truncating == "post"):
            return x
        if set(map(type, rows)) == {list} and _fill_flat(x, rows, lengths, maxlen, cut, padding, dtype):
            return x

    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = np.asarray(s[cut], dtype=dtype)
        _check_sample_shape(trunc.shape[1:], idx, sample_shape)
        if padding == "post":
            x[idx, : len(trunc)] = trunc
        else:
            x[idx, -len(trunc) :] = trunc
    return x


def _check_sample_shape(shape, idx, sample_shape):
    if shape != sample_shape:
        raise ValueError(
            "Shape of sample %s of sequence at position %s is different from expected shape %s"
            % (shape, idx, sample_shape)
        )


def _fill_flat(x, sequences, lengths, maxlen, cut, padding, dtype):
    """Fill ``x`` from lists of scalars with one conversion; False if they are not that."""
    pieces = map(operator.itemgetter(cut), sequences)
    kept = np.minimum(np.asarray(lengths, dtype=np.intp), maxlen)
    try:
        with _gc_paused():
            flat = np.asarray(list(chain.from_iterable(pieces)), dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        return False  # the general path raises the error Keras gives
    if flat.ndim != 1 or flat.size != int(kept.sum()):
        return False
    cols = np.arange(maxlen)
    if padding == "post":
        mask = cols < kept[:, None]
    else:
        mask = cols >= (maxlen - kept)[:, None]
    x[mask] = flat  # row-major order matches the concatenation order
    return True
