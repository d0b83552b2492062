"""``Vectors``: words in file order and their matrix, the result of ``embload.load``.

``Vectors`` knows nothing about file formats. Its convenience methods call later stages
and import them inside the method, the only imports in the package that point up the
data flow (``tests/test_package.py`` lists them): ``align`` (embload.align), ``save``
(embload.write), ``to_gensim``/``from_gensim`` (embload.interop), and the similarity
queries ``most_similar`` ... ``evaluate_word_pairs`` (embload.similarity).
"""

import numpy as np

from ._words import WordIndex, WordList

__all__ = ["Vectors", "WordList", "WordIndex"]

_MISSING = object()


class Vectors:
    """Word vectors: ``words[i]`` is the word of row ``i`` of ``vectors``.

    Parameters
    ----------
    words : sequence of str
        Unique words, in file order. Kept as a :class:`~embload.WordList` (a read-only,
        list-like sequence holding the words as UTF-8 bytes; ``list(v.words)`` gives a list).
    vectors : ndarray, shape (len(words), dim)
        C-contiguous; float16, float32 or float64. Not copied.
    key_to_index : mapping, optional
        ``{word: row}``; by default a :class:`~embload.WordIndex` over ``words`` (a C hash
        index, no dict of str).
    path, format : optional
        Where the vectors came from (for ``repr`` and error messages).
    """

    # _norms: (matrix, row norms) kept by embload.similarity.row_norms for the queries
    __slots__ = ("words", "vectors", "key_to_index", "path", "format", "_norms", "__weakref__")

    def __init__(self, words, vectors, *, key_to_index=None, path=None, format=None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (words x dim), got shape {vectors.shape}")
        if not isinstance(words, WordList):
            words = WordList.from_words(words)
        if len(words) != vectors.shape[0]:
            raise ValueError(
                f"{len(words)} words but {vectors.shape[0]} rows of vectors; they must match"
            )
        if key_to_index is None:
            key_to_index = WordIndex(words)
            if words.build_index():
                row, earlier = words.first_duplicate()
                raise ValueError(f"duplicate word {words[row]!r} (rows {earlier} and {row}); "
                                 f"words must be unique")
        self.words = words
        self.vectors = vectors
        self.key_to_index = key_to_index
        self.path = None if path is None else str(path)
        self.format = format
        self._norms = None

    # --- mapping-like access -------------------------------------------------
    @property
    def dim(self):
        return self.vectors.shape[1]

    @property
    def dtype(self):
        return self.vectors.dtype

    @property
    def shape(self):
        return self.vectors.shape

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.key_to_index

    def __iter__(self):
        return iter(self.words)

    def index(self, word):
        """Row of ``word``; ``KeyError`` naming the word if it is absent."""
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(f"word {word!r} not in vocabulary of {len(self)} words") from None

    def __getitem__(self, word):
        if isinstance(word, str):
            return self.vectors[self.index(word)]
        if isinstance(word, (list, tuple)):
            return self.vectors[[self.index(w) for w in word]]
        raise TypeError(f"Vectors are indexed by word (str) or a list of words, not {type(word).__name__}")

    def get(self, word, default=None):
        row = self.key_to_index.get(word, _MISSING)
        if row is _MISSING:
            return default
        return self.vectors[row]

    def get_vecs_by_tokens(self, tokens, lower_case_backup=False):
        """torchtext's ``Vectors.get_vecs_by_tokens``, as NumPy arrays.

        Parameters
        ----------
        tokens : str or list of str
            One token gives a 1-D vector, a list a ``(len(tokens), dim)`` array.
        lower_case_backup : bool
            A token not found as written is looked up lowercased.

        A token not found gives a row of zeros (torchtext's default ``unk_init``).
        """
        single = isinstance(tokens, str)
        tokens = [tokens] if single else list(tokens)
        out = np.zeros((len(tokens), self.dim), dtype=self.vectors.dtype)
        lookup = self.key_to_index
        for i, token in enumerate(tokens):
            row = lookup.get(token)
            if row is None and lower_case_backup:
                row = lookup.get(token.lower())
            if row is not None:
                out[i] = self.vectors[row]
        return out[0] if single else out

    def __repr__(self):
        source = f", path={self.path!r}" if self.path else ""
        fmt = f", format={self.format!r}" if self.format else ""
        return f"<Vectors {len(self)} words x {self.dim} dims, {self.vectors.dtype}{fmt}{source}>"

    # --- other stages, imported lazily -------------------------------------
    def align(self, word_index, **kwargs):
        """Matrix whose row ``i`` is the vector of the word ``word_index`` numbers ``i``.

        See :func:`embload.load_aligned` for the arguments.
        """
        from .align import align_vectors

        return align_vectors(self, word_index, **kwargs)

    def save(self, path, format=None, **kwargs):
        """Write to ``path``; see :func:`embload.save`."""
        from .write import save

        return save(self, path, format=format, **kwargs)

    def to_gensim(self):
        """A ``gensim.models.KeyedVectors`` holding the same words and vectors."""
        from .interop import vectors_to_gensim

        return vectors_to_gensim(self)

    @classmethod
    def from_gensim(cls, keyed_vectors):
        """Vectors from a ``gensim.models.KeyedVectors`` (no copy where possible)."""
        from .interop import vectors_from_gensim

        return vectors_from_gensim(keyed_vectors)

    # --- similarity queries (embload.similarity), imported lazily ----------------------
    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None, **kwargs):
        """Nearest words to the mean of ``positive`` minus ``negative``, as gensim's
        ``most_similar``; see :func:`embload.similarity.most_similar`."""
        from .similarity import most_similar

        return most_similar(self, positive, negative, topn, restrict_vocab, **kwargs)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None, **kwargs):
        """3CosMul nearest words; see :func:`embload.similarity.most_similar_cosmul`."""
        from .similarity import most_similar_cosmul

        return most_similar_cosmul(self, positive, negative, topn, restrict_vocab, **kwargs)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None, **kwargs):
        """Nearest words to ``vector``; see :func:`embload.similarity.similar_by_vector`."""
        from .similarity import similar_by_vector

        return similar_by_vector(self, vector, topn, restrict_vocab, **kwargs)

    def most_similar_batch(self, queries, topn=10, restrict_vocab=None, **kwargs):
        """Nearest words of many words or vectors in one pass; see
        :func:`embload.similarity.most_similar_batch`."""
        from .similarity import most_similar_batch

        return most_similar_batch(self, queries, topn, restrict_vocab, **kwargs)

    def similarity(self, w1, w2):
        """Cosine similarity of two words; see :func:`embload.similarity.similarity`."""
        from .similarity import similarity

        return similarity(self, w1, w2)

    def doesnt_match(self, words):
        """The word furthest from the others' mean; see :func:`embload.similarity.doesnt_match`."""
        from .similarity import doesnt_match

        return doesnt_match(self, words)

    def evaluate_word_analogies(self, path, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False, **kwargs):
        """Accuracy on an analogy set; see :func:`embload.similarity.evaluate_word_analogies`."""
        from .similarity import evaluate_word_analogies

        return evaluate_word_analogies(self, path, restrict_vocab, case_insensitive, dummy4unknown, **kwargs)

    def evaluate_word_pairs(self, path, delimiter="\t", restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False, **kwargs):
        """Correlation with human similarity scores; see
        :func:`embload.similarity.evaluate_word_pairs`."""
        from .similarity import evaluate_word_pairs

        return evaluate_word_pairs(self, path, delimiter, restrict_vocab, case_insensitive,
                                   dummy4unknown, **kwargs)
