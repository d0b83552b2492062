"""``Vectors``: words in file order and their matrix, the result of ``embload.load``."""

import numpy as np

__all__ = ["Vectors"]

_MISSING = object()


class Vectors:
    """Word vectors: ``words[i]`` is the word of row ``i`` of ``vectors``.

    Parameters
    ----------
    words : list of str
        Unique words, in file order.
    vectors : ndarray, shape (len(words), dim)
        C-contiguous; float16, float32 or float64. Not copied.
    key_to_index : dict, optional
        ``{word: row}``; built from ``words`` when not given.
    path, format : optional
        Where the vectors came from (for ``repr`` and error messages).
    """

    __slots__ = ("words", "vectors", "key_to_index", "path", "format", "__weakref__")

    def __init__(self, words, vectors, *, key_to_index=None, path=None, format=None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (words x dim), got shape {vectors.shape}")
        words = list(words)
        if len(words) != vectors.shape[0]:
            raise ValueError(
                f"{len(words)} words but {vectors.shape[0]} rows of vectors; they must match"
            )
        if key_to_index is None:
            key_to_index = dict(zip(words, range(len(words))))
            if len(key_to_index) != len(words):
                seen = set()
                duplicate = next(w for w in words if w in seen or seen.add(w))
                raise ValueError(f"duplicate word {duplicate!r}; words must be unique")
        self.words = words
        self.vectors = vectors
        self.key_to_index = key_to_index
        self.path = None if path is None else str(path)
        self.format = format

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
        from .writers import save

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
