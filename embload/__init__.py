"""embload: pretrained word vectors into your model, fast, exact and lean.

Data flows one way through the package; each module imports only from the stages above
it (``tests/test_package.py`` checks this)::

    errors, _checks, _threads, _progress, _atomic   exceptions, argument rules, threads, bars
      -> _source      bytes: a file, or a gzip/bz2/xz/zip stream (the compression table)
      -> formats      which format the bytes are (sniff); format names, name suffixes
      -> _parse       records -> rows: header, lines, the word split from the right
         src/floatparse.h   floats: exact, locale-free
      -> _words, vectors    words as one UTF-8 arena (WordList, WordIndex) + the matrix
      -> read, cache        embload.load -> Vectors; the instant-open cache folder
      -> _write, write      embload.save: GloVe, word2vec text/binary, the cache
      -> vocabulary         a user's vocabulary: mappings, token lists, tokenizers, files
      -> _align, align      any vocabulary numbering -> AlignedEmbedding (parses only wanted rows)
      -> _similarity, similarity   neighbours and evaluations over Vectors (norms, C scan, top-k)
      -> conversion, interop, text, _layer, layer, optimizers
                            convert, frameworks, Keras' Tokenizer, the embedding layer
      -> demo, cli          the command line

Each compiled module ``_x.pyx`` has a ``.pxd`` (its C contract) and a ``.pyi`` stub; the
public API lives in the plain Python modules. The public names below are imported
lazily, so ``import embload`` stays cheap.
"""

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "EmbeddingFormatError": "embload.errors",
    "Vectors": "embload.vectors",
    "WordList": "embload.vectors",
    "WordIndex": "embload.vectors",
    "load": "embload.read",
    "LoadOptions": "embload.options",
    "detect_format": "embload.formats",
    "load_aligned": "embload.align",
    "load_fasttext": "embload.fasttext",
    "FastTextModel": "embload.fasttext",
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
    "save": "embload.write",
    "convert": "embload.conversion",
    "load_cached": "embload.read",
    "evaluate_word_analogies": "embload.similarity",
    "evaluate_word_pairs": "embload.similarity",
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
