"""embload: pretrained word vectors into your model, fast, exact and lean.

Data flows one way through the package::

    bytes source (_source: file, gzip/bz2/xz/zip)
      -> record splitter (_parse: header, lines, word split from the right)
      -> float conversion (src/floatparse.h: exact, locale-free)
      -> row storage (one matrix, allocated once)          -> Vectors      (vectors.py)
         words kept as one UTF-8 arena (_words)               .words: WordList, .key_to_index: WordIndex
      -> alignment to a tokenizer's word_index (_align)    -> AlignedEmbedding (align.py)
      -> embedding layer: lookup + sparse updates (_layer) -> Embedding   (layer.py)

The public names below are imported lazily, so ``import embload`` stays cheap.
"""

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "EmbeddingFormatError": "embload.errors",
    "Vectors": "embload.vectors",
    "WordList": "embload.vectors",
    "WordIndex": "embload.vectors",
    "load": "embload.io",
    "LoadOptions": "embload.options",
    "detect_format": "embload.formats",
    "load_aligned": "embload.align",
    "AlignedEmbedding": "embload.align",
    "Tokenizer": "embload.text",
    "tokenizer_from_json": "embload.text",
    "pad_sequences": "embload.text",
    "text_to_word_sequence": "embload.text",
    "one_hot": "embload.text",
    "hashing_trick": "embload.text",
    "skipgrams": "embload.text",
    "make_sampling_table": "embload.text",
    "Embedding": "embload.layer",
    "SparseGrad": "embload.layer",
    "SGD": "embload.optimizers",
    "Adagrad": "embload.optimizers",
    "Adam": "embload.optimizers",
    "save": "embload.writers",
    "convert": "embload.convert",
    "load_cached": "embload.cache",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'embload' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
