"""Hand vectors and aligned matrices to other libraries: gensim, PyTorch, Keras 3, JAX/Flax,
and static embedding models (model2vec, sentence-transformers).

Every library here is optional and imported only when its function is called; a missing
one gets an ``ImportError`` that says what to install.

Anything else takes the NumPy matrix directly. The neutral form to store or exchange is
``np.save("matrix.npy", v.vectors)`` plus the word list, one word per line, in row order:
exactly what the embload cache folder holds (``matrix.npy`` + ``words.txt``).

Recipes::

    kv = vectors.to_gensim()                             # gensim KeyedVectors, no copy
    emb = aligned.to_torch(freeze=True)                  # torch.nn.Embedding, its padding_idx
    layer = aligned.to_keras(trainable=False)            # keras.layers.Embedding
    table = aligned.to_jax()                             # flax: nn.Embed(n, d, embedding_init=lambda *_: table)
    aligned.save_pretrained("glove-static")              # model2vec.StaticModel.from_pretrained(...)
"""

import numpy as np

from ._atomic import atomic_file

__all__ = [
    "vectors_to_gensim",
    "vectors_from_gensim",
    "aligned_to_torch",
    "aligned_keras_initializer",
    "aligned_to_keras",
    "aligned_to_jax",
    "aligned_save_pretrained",
]


def _require(module, package, purpose):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if module == "keras" and "tensorflow" in str(exc):
            raise ImportError(f"{purpose}: keras is installed but its backend is not ({exc}); set "
                              "KERAS_BACKEND=torch or KERAS_BACKEND=jax before importing keras, "
                              "or pip install tensorflow") from exc
        raise ImportError(f"{purpose} needs {package}: pip install {package} ({exc})") from exc


def _matrix_of(aligned):
    """The 2-D matrix of an AlignedEmbedding (``.matrix``), Vectors (``.vectors``) or array."""
    matrix = getattr(aligned, "matrix", None)
    if matrix is None:
        matrix = getattr(aligned, "vectors", aligned)
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D embedding matrix (rows x dim), got shape {matrix.shape}")
    if matrix.dtype.kind != "f":
        raise ValueError(f"expected a floating-point embedding matrix, got {matrix.dtype}")
    return matrix


# --- gensim ------------------------------------------------------------------------------
def vectors_to_gensim(vectors):
    """A gensim 4 ``KeyedVectors`` with the same words and rows, sharing the matrix (no copy).

    The matrix is shared, so a memory-mapped cache stays memory-mapped in gensim (as with
    ``KeyedVectors.load(..., mmap="r")``) and gensim's ``most_similar`` etc. work on it.
    """
    models = _require("gensim.models", "gensim", "to_gensim()")
    matrix = _matrix_of(vectors)
    words = list(vectors.words)
    kv = models.KeyedVectors(matrix.shape[1], count=0, dtype=matrix.dtype)
    kv.index_to_key = words
    kv.key_to_index = dict(zip(words, range(len(words))))
    kv.next_index = len(words)
    kv.vectors = matrix
    kv.norms = None
    return kv


def vectors_from_gensim(keyed_vectors):
    """:class:`~embload.Vectors` from a gensim ``KeyedVectors`` (or a model with ``.wv``).

    The matrix is shared, not copied. gensim allows non-string keys (ints); embload's words
    are strings, so such keys raise ``TypeError``.
    """
    from .vectors import Vectors

    kv = getattr(keyed_vectors, "wv", keyed_vectors)
    if not hasattr(kv, "index_to_key") or not hasattr(kv, "vectors"):
        raise TypeError(f"expected a gensim KeyedVectors (or a model with .wv), got {type(keyed_vectors).__name__}")
    words = list(kv.index_to_key)
    for position, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(f"gensim key {word!r} at index {position} is a {type(word).__name__}; "
                            "embload words must be str (convert the keys with str() first)")
    matrix = np.asarray(kv.vectors)[: len(words)]
    if not matrix.flags.c_contiguous:
        matrix = np.ascontiguousarray(matrix)
    return Vectors(words, matrix, format="gensim")


# --- PyTorch -----------------------------------------------------------------------------
def aligned_to_torch(aligned, freeze=True, padding_idx="auto"):
    """A ``torch.nn.Embedding`` whose weights are the aligned matrix.

    Parameters
    ----------
    aligned : AlignedEmbedding or ndarray
        Row ``i`` is the vector of the token the tokenizer numbers ``i``.
    freeze : bool, default True
        ``weight.requires_grad = not freeze`` (as ``nn.Embedding.from_pretrained``).
    padding_idx : "auto", int or None
        Row that gets no gradient. "auto": the aligned embedding's own ``padding_idx``
        (row 0 for Keras-numbered vocabularies, the ``<pad>`` / ``[PAD]`` token's id for
        0-based ones, None when it has none); 0 for a bare matrix.

    The weights are a copy: training the layer does not change ``aligned.matrix``, and a
    read-only (memory-mapped) matrix is fine.
    """
    torch = _require("torch", "torch", "to_torch()")
    matrix = _matrix_of(aligned)
    if isinstance(padding_idx, str) and padding_idx == "auto":
        padding_idx = getattr(aligned, "padding_idx", 0)
    if padding_idx is not None and not -matrix.shape[0] <= padding_idx < matrix.shape[0]:
        raise ValueError(f"padding_idx {padding_idx} is outside the {matrix.shape[0]} rows of the matrix")
    weights = torch.from_numpy(np.array(matrix, copy=True, order="C"))
    return torch.nn.Embedding.from_pretrained(weights, freeze=freeze, padding_idx=padding_idx)


# --- Keras 3 -----------------------------------------------------------------------------
def aligned_keras_initializer(aligned):
    """A Keras initializer that fills an ``Embedding`` of the matrix's shape with the matrix.

    ``keras.initializers.Constant`` holding the matrix: the recipe of the Keras guide
    "Using pre-trained word embeddings". Use it as
    ``Embedding(num_words, dim, embeddings_initializer=init, trainable=False)``.
    The layer's shape must equal the matrix's, else Keras raises a broadcasting error.
    """
    keras = _require("keras", "keras", "keras_initializer()")
    return keras.initializers.Constant(np.array(_matrix_of(aligned), copy=True))


def aligned_to_keras(aligned, trainable=False, mask_zero=True, **kwargs):
    """A ``keras.layers.Embedding(num_words, dim)`` initialised with the aligned matrix.

    ``mask_zero=True`` makes index 0 (padding) a masked position, Keras' convention for
    padded sequences; Keras masks index 0 only, so an aligned embedding whose padding row
    is another row, or whose row 0 is a real token, is refused with ``mask_zero=True``
    (pass ``mask_zero=False``). Extra keyword arguments go to ``keras.layers.Embedding``.
    """
    _check_keras_mask(aligned, mask_zero)
    keras = _require("keras", "keras", "to_keras()")
    matrix = _matrix_of(aligned)
    return keras.layers.Embedding(
        input_dim=matrix.shape[0],
        output_dim=matrix.shape[1],
        embeddings_initializer=keras.initializers.Constant(np.array(matrix, copy=True)),
        trainable=trainable,
        mask_zero=mask_zero,
        **kwargs,
    )


def _check_keras_mask(aligned, mask_zero):
    if not mask_zero or not hasattr(aligned, "padding_idx"):
        return
    pad = aligned.padding_idx
    if pad == 0:
        return
    if pad is None:
        holder = next((t for t, r in aligned.word_index.items() if r == 0), None)
        why = (f"row 0 is the token {holder!r}, not padding" if holder is not None
               else "the alignment has no padding row")
    else:
        why = f"the padding row is {pad}"
    raise ValueError(
        f"to_keras(mask_zero=True) masks index 0, but {why}: Keras would mask the wrong "
        "positions. Pass mask_zero=False (and mask the padding id yourself), or align with "
        "padding_idx=0 if id 0 is your padding")


# --- JAX / Flax --------------------------------------------------------------------------
def aligned_to_jax(aligned, dtype=None):
    """The aligned matrix as a ``jax.Array`` (for Flax: ``nn.Embed(n, d, embedding_init=lambda *_: table)``)."""
    jnp = _require("jax.numpy", "jax", "to_jax()")
    matrix = _matrix_of(aligned)
    return jnp.asarray(matrix, dtype=dtype)


# --- static embedding models (model2vec, sentence-transformers) ---------------------------
_UNK_NAMES = ("[UNK]", "<unk>", "<UNK>", "<OOV>", "[unk]")


def aligned_save_pretrained(aligned, folder, tokenizer=None, normalize=False):
    """Write ``folder`` as a static embedding model: ``model.safetensors`` (the matrix, named
    ``embeddings``), ``tokenizer.json`` and ``config.json``, the layout
    ``model2vec.StaticModel.from_pretrained(folder)`` opens (and sentence-transformers'
    ``StaticEmbedding.from_model2vec(folder)``): a sentence's embedding is the mean of the
    rows of its token ids.

    Parameters
    ----------
    aligned : AlignedEmbedding
    folder : str or os.PathLike
        Created if needed; the three files are replaced.
    tokenizer : tokenizers.Tokenizer, str or os.PathLike, optional
        The tokenizer whose ids the matrix rows are (a ``tokenizers.Tokenizer``, a
        transformers fast tokenizer or a ``tokenizer.json`` path). Default: the one the
        alignment was made from, when it was a Hugging Face tokenizer or its
        ``tokenizer.json``; else a WordLevel tokenizer built from ``aligned.word_index``
        (split on whitespace and punctuation, lowercased when no token has a capital; an
        unknown token is ``[UNK]``/``<unk>``/``<OOV>`` if the vocabulary has one, else a
        ``[UNK]`` on the padding row).
    normalize : bool
        Written to the config: model2vec then unit-normalises sentence embeddings.

    Returns
    -------
    str
        The folder.
    """
    import json
    import os

    tokenizers = _require("tokenizers", "tokenizers", "save_pretrained()")
    st = _require("safetensors.numpy", "safetensors", "save_pretrained()")
    matrix = np.ascontiguousarray(_matrix_of(aligned))
    tok = _static_tokenizer(aligned, tokenizer, tokenizers)
    top = max(tok.get_vocab().values(), default=-1)
    if top >= matrix.shape[0]:
        raise ValueError(f"the tokenizer has ids up to {top} but the matrix has {matrix.shape[0]} "
                         "rows; align with num_words=None (every id) or pass the tokenizer the "
                         "matrix was aligned to")
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    config = {"model_type": "model2vec", "architectures": ["StaticModel"],
              "hidden_dim": int(matrix.shape[1]), "normalize": bool(normalize),
              "embedding_dtype": matrix.dtype.name, "source": "embload load_aligned",
              "vectors_file": getattr(aligned, "path", None)}
    # Each file atomically, like every embload output: an interrupted save leaves the old
    # files whole, never a truncated model.safetensors. Not one atomic_dir: the folder may
    # hold files of the user's (a README) that must stay.
    weights = atomic_file(os.path.join(folder, "model.safetensors"))
    with weights:   # safetensors writes by file name, without a copy of the matrix
        st.save_file({"embeddings": matrix}, weights.temporary)
    with atomic_file(os.path.join(folder, "tokenizer.json")) as handle:
        handle.write(tok.to_str(pretty=True).encode("utf-8"))   # what tok.save() writes
    with atomic_file(os.path.join(folder, "config.json")) as handle:
        handle.write(json.dumps(config, indent=2).encode("utf-8"))
    return folder


def _static_tokenizer(aligned, tokenizer, tokenizers):
    """The ``tokenizers.Tokenizer`` whose ids are the rows (see aligned_save_pretrained)."""
    import os

    if tokenizer is None:
        source = getattr(getattr(aligned, "vocabulary", None), "tokenizer", None)
        backend = getattr(source, "backend_tokenizer", source)
        if isinstance(source, (str, os.PathLike)) or isinstance(backend, tokenizers.Tokenizer):
            tokenizer = source   # else (a slow transformers tokenizer): a WordLevel one below
    if isinstance(tokenizer, (str, os.PathLike)):
        return tokenizers.Tokenizer.from_file(os.fspath(tokenizer))
    if tokenizer is not None:
        backend = getattr(tokenizer, "backend_tokenizer", tokenizer)   # transformers fast
        if not isinstance(backend, tokenizers.Tokenizer):
            raise TypeError("tokenizer must be a tokenizers.Tokenizer, a transformers fast "
                            f"tokenizer or a tokenizer.json path, not {type(tokenizer).__name__}")
        return backend
    from tokenizers import models, normalizers, pre_tokenizers

    ids = dict(aligned.word_index)
    unk = next((t for t in _UNK_NAMES if t in ids), None)
    if unk is None:
        unk = "[UNK]"
        pad = getattr(aligned, "padding_idx", None)
        free = pad is not None and pad not in set(ids.values())
        if not free:
            raise ValueError("the vocabulary has no unknown token ([UNK], <unk>, <OOV>) and no "
                             "free padding row to put one on; pass tokenizer=")
        ids[unk] = pad
    tok = tokenizers.Tokenizer(models.WordLevel(vocab=ids, unk_token=unk))
    if not any(t != t.lower() for t in ids if t != unk and t not in _UNK_NAMES):
        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return tok
