"""The ``embload`` command (also ``python -m embload``).

Each subcommand is a thin layer over the library: ``info`` over :func:`embload.load` and
:mod:`embload.cache`, ``convert`` over :func:`embload.convert`, ``align`` over
:func:`embload.load_aligned`, ``similar`` and ``eval`` over :mod:`embload.similarity`,
``demo`` over :func:`embload.demo.main`.
"""

import argparse
import json
import os
import signal
import sys
import warnings

import numpy as np

from . import __version__
from ._atomic import ChunkedWriter, atomic_file, check_destination, interrupt_on_signals, remove_live_temporaries
from ._checks import DTYPES
from ._progress import make_progress
from .align import load_aligned
from .cache import read_meta, verify_cache
from .conversion import convert
from .errors import DuplicateWordsWarning, EmbeddingFormatError, LowCoverageWarning
from .formats import FORMATS, WRITABLE_FORMATS
from .read import load, source_kind
from .write import infer_format

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2

DESCRIPTION = """\
Pretrained word vectors (GloVe, word2vec, fastText .vec) into your model: inspect a
vectors file, convert it between formats or into an instant-open cache, and build the
embedding matrix for a tokenizer's vocabulary."""

EPILOG = """\
formats:
  glove            text, one "word v1 v2 ... vd" per line, no header
  word2vec         text with a "count dim" header line (fastText .vec is this format)
  word2vec-binary  the word2vec C tool's binary format (.bin)
  embload          a cache folder (matrix.npy + words.txt + meta.json) that opens in
                   milliseconds, memory-mapped; made by "embload convert SRC DST.embload"
  Input formats are detected from the bytes; .gz, .bz2, .xz and .zip are read directly.

examples:
  embload info glove.6B.100d.txt
  embload convert glove.6B.300d.txt glove.6B.300d.embload
  embload convert glove.840B.300d.zip small.bin --vocab my_vocab.txt --dtype float16
  embload convert GoogleNews-vectors-negative300.bin gn.vec.gz --limit 200000
  embload align glove.6B.300d.embload --word-index tokenizer.json --out matrix.npy \\
          --num-words 20000 --oov uniform --seed 0 --case fallback
  embload similar glove.6B.300d.embload king woman --negative man
  embload eval glove.6B.300d.embload --analogies questions-words.txt --pairs wordsim353.tsv
  embload demo

exit status:
  0  done
  1  bad input: a file that is missing, unreadable or not what its format says (the
     message names the file, and the line or record)
  2  usage error (unknown option, missing argument)
  128+N  ended by signal N: 130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP; a file
     being written is removed, an existing one is left as it was
"""

INFO_HELP = """\
Show what a vectors file or cache holds: format, count, dimension, dtype, the first
rows, value statistics (min, max, mean, std, vector norms), duplicate words, and
problems found (zero or non-finite vectors, odd words, warnings from the reader)."""

INFO_EPILOG = """\
examples:
  embload info glove.6B.100d.txt
  embload info vectors.bin --limit 100000 --rows 3
  embload info glove.embload --verify        # read every byte and check the checksums
  embload info vectors.vec --json            # machine-readable
"""

CONVERT_HELP = """\
Read SRC (any supported format, compressed or not, or a cache folder) and write DST in
another format, atomically: an error or Ctrl-C leaves the old DST (or none). The output
format comes from --to or from DST's name: NAME.embload is a cache folder, .bin is
word2vec-binary, .vec/.w2v is word2vec text, .txt/.glove is GloVe text; compression follows
DST's suffix (.gz .bz2 .xz .zip). A name that says none of these needs --to FORMAT."""

CONVERT_EPILOG = """\
examples:
  embload convert glove.6B.300d.txt glove.6B.300d.embload     # instant-open cache
  embload convert glove.6B.300d.txt glove.vec --to word2vec     # GloVe -> word2vec text
  embload convert vectors.vec.gz vectors.bin                    # text -> binary
  embload convert big.bin small.txt --to glove --vocab vocab.txt --dtype float16
"""

ALIGN_HELP = """\
Build the embedding matrix for a tokenizer: row i is the vector of the token the
tokenizer numbers i (the padding row stays zero). Only the wanted rows are parsed.
Prints the coverage and the first words that the vectors file does not have."""

ALIGN_EPILOG = """\
the word index (--word-index FILE) is one of:
  a Keras tokenizer JSON (Tokenizer.to_json()), a Hugging Face tokenizer.json,
  a JSON object {"token": id, ...}, a sentencepiece .vocab (ids from 0),
  or a file with one token per line: --start 0 (Hugging Face vocab.txt) or
  --start 1 (Keras; row 0 padding). Without --start a file whose first line is a
  special token ([PAD], <pad>, <unk>, [CLS], ...) is numbered from 0, any other from 1;
  the choice is printed.

padding row (--padding-idx): auto (default) keeps row 0 as padding when no token has
  id 0, else the id of a <pad>/[PAD] token, else none; N: row N; none: no padding row.

oov modes (rows of words not in the file):
  zeros    zero vectors (default)
  uniform  U(-0.05, 0.05), Keras' default initializer
  normal   normal with the found rows' mean and std
  mean     the mean of the found vectors

examples:
  embload align glove.6B.100d.txt --word-index tokenizer.json --out matrix.npy
  embload align glove.6B.100d.txt --word-index vocab.txt --start 0 --out matrix.npy
  embload align gn.embload --word-index vocab.txt --out m.npy --num-words 20000 \\
          --oov uniform --seed 1 --case fallback --missing-out missing.txt
"""

SIMILAR_HELP = """\
Print the nearest words (cosine similarity) of each WORD, as gensim's most_similar; with
--negative or --combine, of one query: the mean of the WORDs' unit vectors minus the
--negative ones (king - man + woman). The words asked about are never answers."""

SIMILAR_EPILOG = """\
examples:
  embload similar glove.6B.100d.txt king frog --topn 5
  embload similar gn.embload king woman --negative man --topn 3
"""

EVAL_HELP = """\
Score vectors on the standard test sets, with gensim's rules and numbers: analogy accuracy
per section and overall (a:b :: c:?, answered by 3CosAdd among the first --restrict-vocab
words), and the Pearson and Spearman correlations of cosine similarities with human scores.
The classic sets ship in gensim's test data (gensim/test/test_data/): questions-words.txt,
wordsim353.tsv, simlex999.txt."""

EVAL_EPILOG = """\
examples:
  D=$(python -c "import gensim.test.utils as u; print(u.datapath(''))")
  embload eval glove.6B.300d.embload --analogies $D/questions-words.txt \\
          --pairs $D/wordsim353.tsv --pairs $D/simlex999.txt
"""


def _padding_idx(text):
    if text in ("auto", "none"):
        return None if text == "none" else "auto"
    try:
        return _count(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected auto, none or an id >= 0, got {text!r}") from None


def _count(text):
    """A whole number >= 0 (0 is a valid --limit, --rows, --topn...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def build_parser():
    """The ``argparse`` parser of the ``embload`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                        help="never show progress bars (default: shown on a terminal for large work)")

    parser = argparse.ArgumentParser(
        prog="embload", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Its own dest: a subcommand's defaults would overwrite a shared one (argparse does that).
    parser.add_argument("--no-progress", dest="no_progress_global", action="store_true",
                        help="never show progress bars (default: shown on a terminal for large work)")
    parser.add_argument("--version", action="version", version=f"embload {__version__}")
    # How a vectors file is read, for the commands that parse one with embload.load.
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument("--format", default="auto", choices=("auto",) + FORMATS,
                         help="input format: %(choices)s (default: auto, detected from the bytes)")
    reading.add_argument("--errors", default="strict", choices=("strict", "replace", "ignore"),
                         help="words that are not valid UTF-8: stop with an error (default), replace "
                              "the bad bytes with U+FFFD, or drop them")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.required = True
    raw = argparse.RawDescriptionHelpFormatter

    info = commands.add_parser("info", help="show format, shape, statistics and problems of a vectors file",
                               description=INFO_HELP, epilog=INFO_EPILOG, formatter_class=raw,
                               parents=[common, reading])
    info.add_argument("file", metavar="FILE", help="vectors file or cache folder")
    info.add_argument("--limit", type=_count, metavar="N", help="look at the first N vectors only")
    info.add_argument("--rows", type=_count, default=5, metavar="K", help="rows to show (default 5)")
    info.add_argument("--verify", action="store_true", help="for a cache: check the checksum of every file")
    info.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    info.set_defaults(func=_cmd_info)

    conv = commands.add_parser("convert", help="convert between formats, or into an instant-open cache",
                               description=CONVERT_HELP, epilog=CONVERT_EPILOG, formatter_class=raw,
                               parents=[common, reading])
    conv.add_argument("src", metavar="SRC", help="vectors file or cache folder to read")
    conv.add_argument("dst", metavar="DST", help="file or cache folder to write")
    conv.add_argument("--to", choices=WRITABLE_FORMATS, metavar="FORMAT",
                      help="output format: %(choices)s (default: from DST's name)")
    conv.add_argument("--limit", type=_count, metavar="N", help="write at most N vectors")
    conv.add_argument("--vocab", metavar="FILE", help="keep only the words of this file (one per line)")
    conv.add_argument("--dtype", choices=DTYPES, help="output value type")
    conv.set_defaults(func=_cmd_convert)

    align = commands.add_parser("align", help="build the embedding matrix for a tokenizer's word index",
                                description=ALIGN_HELP, epilog=ALIGN_EPILOG, formatter_class=raw,
                                parents=[common])
    align.add_argument("vectors", metavar="VECTORS", help="vectors file or cache folder")
    align.add_argument("--word-index", required=True, metavar="FILE",
                       help="Keras or Hugging Face tokenizer JSON, {token: id} JSON, sentencepiece .vocab, "
                            "or one token per line")
    align.add_argument("--out", required=True, metavar="MATRIX.npy", help="where to save the matrix (.npy)")
    align.add_argument("--num-words", type=_count, metavar="N",
                       help="rows of the matrix; words with index >= N are left out (default: max index + 1)")
    align.add_argument("--oov", default="zeros", choices=("zeros", "uniform", "normal", "mean"),
                       help="rows of words missing from the file (default: zeros)")
    align.add_argument("--seed", type=int, help="random seed for --oov uniform/normal")
    align.add_argument("--case", default="exact", choices=("exact", "fallback"),
                       help="fallback: a word not found as written takes the first file word equal ignoring case")
    align.add_argument("--dtype", default="float32", choices=DTYPES)
    align.add_argument("--show-missing", type=_count, default=20, metavar="K",
                       help="missing words to print (default 20)")
    align.add_argument("--missing-out", metavar="FILE", help="write every missing word to FILE, one per line")
    align.add_argument("--start", type=int, choices=(0, 1), metavar="N",
                       help="id of line 1 of a one-token-per-line vocabulary file (0 or 1)")
    align.add_argument("--padding-idx", type=_padding_idx, default="auto", metavar="N",
                       help="the padding row: auto (default), an id, or none")
    align.set_defaults(func=_cmd_align)

    similar = commands.add_parser("similar", help="nearest words of words (gensim's most_similar)",
                                  description=SIMILAR_HELP, epilog=SIMILAR_EPILOG, formatter_class=raw,
                                  parents=[common, reading])
    similar.add_argument("vectors", metavar="VECTORS", help="vectors file or cache folder")
    similar.add_argument("words", metavar="WORD", nargs="+", help="word(s) to look up")
    similar.add_argument("--negative", metavar="WORD", nargs="+", default=[],
                         help="subtract these: one query, the WORDs minus these (an analogy)")
    similar.add_argument("--combine", action="store_true",
                         help="one query, the mean of the WORDs (default: one query per WORD)")
    similar.add_argument("--topn", type=_count, default=10, metavar="N", help="answers per query (default 10)")
    similar.add_argument("--restrict-vocab", type=_count, metavar="N", help="search the first N words only")
    similar.add_argument("--limit", type=_count, metavar="N", help="read the first N vectors only")
    similar.set_defaults(func=_cmd_similar)

    evaluate = commands.add_parser("eval", help="score vectors on analogy and word-similarity test sets",
                                   description=EVAL_HELP, epilog=EVAL_EPILOG, formatter_class=raw,
                                   parents=[common, reading])
    evaluate.add_argument("vectors", metavar="VECTORS", help="vectors file or cache folder")
    evaluate.add_argument("--analogies", metavar="FILE", action="append", default=[],
                          help="analogy questions (questions-words.txt format); may be repeated")
    evaluate.add_argument("--pairs", metavar="FILE", action="append", default=[],
                          help="word pairs with human scores (wordsim353.tsv format); may be repeated")
    evaluate.add_argument("--restrict-vocab", type=_count, default=300000, metavar="N",
                          help="only the first N words count as known (default 300000)")
    evaluate.add_argument("--case-sensitive", action="store_true",
                          help="compare words as written (default: upper-cased, first case variant's vector)")
    evaluate.add_argument("--dummy4unknown", action="store_true",
                          help="count questions/pairs with unknown words as wrong / similarity 0 instead of skipping")
    evaluate.add_argument("--delimiter", default="\t", help="field separator of the pairs files (default: tab)")
    evaluate.add_argument("--sections", action="store_true", help="print every analogy section's accuracy")
    evaluate.add_argument("--limit", type=_count, metavar="N", help="read the first N vectors only")
    evaluate.set_defaults(func=_cmd_eval)

    demo = commands.add_parser("demo", help="the whole toolkit on the bundled sample data",
                               description="Tokenize a small labelled text collection, align the sample "
                                           "vectors, and train a classifier three ways (frozen, fine-tuned, "
                                           "missing rows only). Options after 'demo' go to the demo; "
                                           "see 'embload demo --help'.",
                               add_help=False)
    demo.add_argument("args", nargs=argparse.REMAINDER)
    demo.set_defaults(func=None)
    return parser


# --- commands ----------------------------------------------------------------------------
def _load_any(path, *, limit=None, fmt="auto", errors="strict", progress=None):
    """Vectors from a file or cache, and the warnings the reader gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # load() opens a cache folder itself (memory-mapped, stored dtype)
        vectors = load(path, format=fmt, limit=limit, errors=errors, progress=progress)
    return vectors, caught


def _statistics(matrix, progress):
    """Value and norm statistics over the matrix, in row chunks (no full-size temporary)."""
    n = matrix.shape[0]
    stats = {"min": None, "max": None, "mean": None, "std": None,
             "norm_min": None, "norm_mean": None, "norm_max": None, "zero_rows": 0, "nonfinite_rows": 0}
    if n == 0 or matrix.shape[1] == 0:
        return stats
    total = s = s2 = 0.0
    lo, hi = np.inf, -np.inf
    norms = np.empty(n, dtype=np.float64)
    nonfinite = 0
    step = max(1, (8 << 20) // max(1, matrix.shape[1] * 8))
    bar = make_progress(progress, total=n, desc="statistics", unit="rows")
    try:
        for start in range(0, n, step):
            chunk = np.asarray(matrix[start:start + step], dtype=np.float64)
            finite = np.isfinite(chunk).all(axis=1)
            nonfinite += int((~finite).sum())
            good = chunk[finite]
            if good.size:
                lo = min(lo, float(good.min()))
                hi = max(hi, float(good.max()))
                s += float(good.sum())
                s2 += float(np.square(good).sum())
                total += good.size
            norms[start:start + len(chunk)] = np.sqrt(np.square(chunk).sum(axis=1))
            bar.update(len(chunk))
    finally:
        bar.close()
    finite_norms = norms[np.isfinite(norms)]
    if total:
        mean = s / total
        stats.update(min=lo, max=hi, mean=mean, std=float(np.sqrt(max(0.0, s2 / total - mean * mean))))
    if finite_norms.size:
        stats.update(norm_min=float(finite_norms.min()), norm_mean=float(finite_norms.mean()),
                     norm_max=float(finite_norms.max()))
    stats["zero_rows"] = int((norms == 0).sum())
    stats["nonfinite_rows"] = nonfinite
    return stats


def _word_problems(words):
    import re

    words = list(words)
    # One C-level search over all the words joined; the per-word count runs only when it
    # finds something (rare), not three Python passes over millions of words every time.
    joined = "\0".join(words)

    def count(pattern):
        return sum(1 for w in words if pattern.search(w)) if pattern.search(joined) else 0

    empty = words.count("")
    spaces = count(re.compile(r"\s"))
    surrogates = count(re.compile("[\ud800-\udfff]"))
    problems = []
    if empty:
        problems.append(f"{empty} empty word(s)")
    if spaces:
        problems.append(f"{spaces} word(s) containing whitespace (GloVe 840B has some; gensim cannot read them)")
    if surrogates:
        problems.append(f"{surrogates} word(s) with bytes that are not valid UTF-8 (kept as surrogate escapes)")
    return problems


def _cmd_info(args):
    path = args.file
    report = {"path": path}
    cache_meta = None
    if source_kind(path) == "cache":
        cache_meta = verify_cache(path, progress=args.progress) if args.verify else read_meta(path)
        report["format"] = "embload"
        report["cache_version"] = cache_meta["version"]
        report["source"] = cache_meta.get("source")
        report["size_bytes"] = sum(entry["size"] for entry in cache_meta["files"].values())
    else:
        if args.verify:
            raise ValueError("--verify applies to embload cache folders only")
        report["size_bytes"] = os.path.getsize(path)
    vectors, caught = _load_any(path, limit=args.limit, fmt=args.format, errors=args.errors,
                                  progress=args.progress)
    if cache_meta is None:
        report["format"] = vectors.format or args.format
    if report["format"] == "fasttext-bin":  # a fastText/floret model: its args, quantization, pruning
        from .fasttext import load_fasttext

        report["model"] = load_fasttext(path, errors=args.errors).describe()
    matrix = vectors.vectors
    report.update(count=len(vectors), dim=int(matrix.shape[1]), dtype=str(matrix.dtype))
    if args.limit is not None:
        report["limit"] = args.limit
    shown = min(args.rows, len(vectors))
    report["rows"] = [{"word": vectors.words[i], "values": [float(x) for x in matrix[i][:8]]} for i in range(shown)]
    report["statistics"] = _statistics(matrix, args.progress)
    duplicates = [str(w.message) for w in caught if issubclass(w.category, DuplicateWordsWarning)]
    others = [str(w.message) for w in caught if not issubclass(w.category, DuplicateWordsWarning)]
    report["duplicates"] = duplicates[0] if duplicates else "none"
    problems = _word_problems(vectors.words)
    stats = report["statistics"]
    if stats["zero_rows"]:
        problems.append(f"{stats['zero_rows']} all-zero vector(s)")
    if stats["nonfinite_rows"]:
        problems.append(f"{stats['nonfinite_rows']} vector(s) holding NaN or infinity")
    problems.extend(others)
    if args.verify:
        report["verified"] = True
    report["problems"] = problems
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        _print_info(report)
    return EXIT_OK


def _fmt(x):
    return "-" if x is None else f"{x:.6g}"


def _print_info(report):
    out = []
    out.append(f"file        {report['path']}")
    out.append(f"format      {report['format']}"
               + (f" (cache version {report['cache_version']})" if "cache_version" in report else ""))
    source = report.get("source")
    if source:
        out.append(f"source      {source.get('path')} ({source.get('format') or 'format unknown'}, "
                   f"{source.get('size')} bytes)")
    out.append(f"size        {_human_bytes(report['size_bytes'])}")
    model = report.get("model")
    if model:
        a = model["args"]
        out.append(f"model       {model['kind']} {a['model']} (file version {model['version'] or 'oldest'}), "
                   f"loss {a['loss']}, {model['words']} words, {model['labels']} labels, "
                   f"{model['tokens']} training tokens")
        out.append(f"subwords    n-grams of {a['minn']}-{a['maxn']} characters in {a['bucket']} buckets"
                   + (f", {a['hash_count']} hashes each (floret)" if a["mode"] == "floret" else ""))
        out.append(f"matrix      {model['input_rows']} rows x {a['dim']}"
                   + (", product-quantized" if model["quantized"] else "")
                   + (f", pruned to {model['kept_buckets']} buckets" if model["pruned"] else ""))
    limit = f" (first {report['limit']} read)" if "limit" in report else ""
    out.append(f"vectors     {report['count']}{limit}")
    out.append(f"dim         {report['dim']}")
    out.append(f"dtype       {report['dtype']}")
    if report.get("verified"):
        out.append("checksums   ok")
    s = report["statistics"]
    out.append(f"values      min {_fmt(s['min'])}  max {_fmt(s['max'])}  mean {_fmt(s['mean'])}  std {_fmt(s['std'])}")
    out.append(f"norms       min {_fmt(s['norm_min'])}  mean {_fmt(s['norm_mean'])}  max {_fmt(s['norm_max'])}")
    out.append(f"duplicates  {report['duplicates']}")
    if report["rows"]:
        out.append("first rows")
        width = min(24, max(len(r["word"]) for r in report["rows"]))
        for row in report["rows"]:
            values = " ".join(f"{v: .4f}" for v in row["values"])
            more = " ..." if report["dim"] > len(row["values"]) else ""
            out.append(f"  {row['word']!s:<{width}}  {values}{more}")
    if report["problems"]:
        out.append("problems")
        out.extend(f"  - {p}" for p in report["problems"])
    else:
        out.append("problems    none found")
    print("\n".join(out))


def _human_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _cmd_convert(args):
    if args.to is None and infer_format(args.dst) is None:
        raise UsageError(f"cannot tell the output format from the name {args.dst!r}; give it with "
                         f"--to FORMAT ({', '.join(WRITABLE_FORMATS)}), or name the file .txt/.glove "
                         f"(glove), .vec/.w2v (word2vec), .bin (word2vec-binary) or .embload")
    extra = {} if args.format == "auto" else {"format": args.format}
    if args.errors != "strict":  # only when asked: any load option turns off convert's vocab fast path
        extra["errors"] = args.errors
    vectors = convert(args.src, args.dst, to=args.to, limit=args.limit, vocab=args.vocab, dtype=args.dtype,
                      progress=args.progress, **extra)
    print(f"wrote {len(vectors)} vectors x {vectors.dim} ({vectors.vectors.dtype}) to {args.dst}")
    return EXIT_OK


def _cmd_align(args):
    if not args.out.endswith(".npy"):
        raise ValueError(f"--out {args.out!r}: the matrix is saved with numpy.save; give a name ending in .npy")
    if not os.path.exists(args.vectors):
        raise FileNotFoundError(2, "No such file or directory", args.vectors)
    if not os.path.exists(args.word_index):
        raise FileNotFoundError(2, "No such file or directory", args.word_index)
    for output in (args.out, args.missing_out):   # now, not after the alignment
        if output:
            check_destination(output)
    options = dict(num_words=args.num_words, oov=args.oov, seed=args.seed, case=args.case, dtype=args.dtype,
                   start=args.start, padding_idx=args.padding_idx)
    # load_aligned reads files and cache folders alike; its low-coverage warning is
    # printed below with the other findings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowCoverageWarning)
        aligned = load_aligned(args.vectors, args.word_index, progress=args.progress, **options)
    _save_npy_atomic(args.out, np.asarray(aligned.matrix))
    missing = list(aligned.missing)
    print(f"matrix      {aligned.num_words} x {aligned.dim} ({np.asarray(aligned.matrix).dtype}) -> {args.out}")
    found = int(np.count_nonzero(aligned.found))
    print(f"coverage    {aligned.coverage:.2%} of the vocabulary ({found} rows found, {len(missing)} missing)")
    for note in aligned.notes:
        print(f"note        {note}")
    if aligned.padding_idx is not None and not any("padding row" in n for n in aligned.notes):
        print(f"padding     row {aligned.padding_idx} (zeros)")
    if missing:
        head = missing[: args.show_missing]
        more = f" ... and {len(missing) - len(head)} more" if len(missing) > len(head) else ""
        print("missing     " + " ".join(_short_word(w) for w in head) + more)
    warning = aligned.coverage_warning()
    if warning:
        print(f"warning     {warning}", file=sys.stderr)
    if args.missing_out:
        # atomic like every output: an interrupted run leaves the old list, not half a new one
        with atomic_file(args.missing_out) as handle:
            handle.writelines((w + "\n").encode("utf-8", "surrogateescape") for w in missing)
        print(f"            all {len(missing)} missing words written to {args.missing_out}")
    return EXIT_OK


def _short_word(word, limit=40):
    """A missing word for the terminal: as is when it is one plain field, else repr;
    cut to about ``limit`` characters (a vectors file passed as a vocabulary has lines
    of thousands)."""
    cut = word[:limit]
    shown = cut if cut and cut.split() == [cut] and cut.isprintable() else repr(cut)
    return shown + ("..." if len(word) > limit else "")


def _save_npy_atomic(path, array):
    with atomic_file(path) as handle:
        # in chunks: one tofile() of a large matrix would hold off Ctrl-C/SIGTERM until done
        np.save(ChunkedWriter(handle, 16 << 20), array, allow_pickle=False)


def _print_neighbours(title, answers):
    print(title)
    width = max((len(w) for w, _ in answers), default=0)
    for rank, (word, score) in enumerate(answers, start=1):
        print(f"  {rank:3d}  {word:<{width}}  {score:.4f}")


def _cmd_similar(args):
    vectors, _ = _load_any(args.vectors, limit=args.limit, fmt=args.format, errors=args.errors,
                           progress=args.progress)
    unknown = [w for w in args.words + args.negative if w not in vectors]
    if args.negative or args.combine:
        if unknown:
            raise ValueError(f"not in the vocabulary of {len(vectors)} words: {' '.join(map(repr, unknown))}")
        answers = vectors.most_similar(positive=args.words, negative=args.negative, topn=args.topn,
                                       restrict_vocab=args.restrict_vocab)
        title = " + ".join(args.words) + "".join(f" - {w}" for w in args.negative)
        _print_neighbours(title, answers)
        return EXIT_OK
    known = [w for w in args.words if w in vectors]
    batch = vectors.most_similar_batch(known, topn=args.topn, restrict_vocab=args.restrict_vocab,
                                       progress=args.progress)
    answers = dict(zip(known, batch))
    for i, word in enumerate(args.words):
        if i:
            print()
        if word in answers:
            _print_neighbours(word, answers[word])
        else:
            print(f"{word}\n  not in the vocabulary ({len(vectors)} words)")
    if unknown:
        print(f"embload similar: not in the vocabulary: {' '.join(map(repr, unknown))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _cmd_eval(args):
    if not args.analogies and not args.pairs:
        print("embload eval: error: give --analogies FILE and/or --pairs FILE", file=sys.stderr)
        return EXIT_USAGE
    for path in args.analogies + args.pairs:
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
    vectors, _ = _load_any(args.vectors, limit=args.limit, fmt=args.format, errors=args.errors,
                           progress=args.progress)
    options = dict(restrict_vocab=args.restrict_vocab, case_insensitive=not args.case_sensitive,
                   dummy4unknown=args.dummy4unknown)
    print(f"vectors     {args.vectors} ({len(vectors)} words x {vectors.dim}, {vectors.dtype})")
    for path in args.analogies:
        score, sections = vectors.evaluate_word_analogies(path, progress=args.progress, **options)
        total = sections[-1]
        asked = len(total["correct"]) + len(total["incorrect"])
        print(f"analogies   {path}: {score:.2%} ({len(total['correct'])}/{asked} questions)")
        if args.sections:
            for section in sections[:-1]:
                n = len(section["correct"]) + len(section["incorrect"])
                share = len(section["correct"]) / n if n else 0.0
                print(f"            {section['section']:<32} {share:7.2%} ({len(section['correct'])}/{n})")
    for path in args.pairs:
        pearson, spearman, oov = vectors.evaluate_word_pairs(path, delimiter=args.delimiter, **options)
        print(f"pairs       {path}: Pearson {pearson[0]:.4f} (p {pearson[1]:.3g})  "
              f"Spearman {spearman[0]:.4f} (p {spearman[1]:.3g})  unknown {oov:.1f}%")
    return EXIT_OK


# --- entry point -------------------------------------------------------------------------
class UsageError(Exception):
    """A command line that cannot be carried out as given (exit status 2, like argparse's)."""


def _error_message(exc):
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _warning_printer(command):
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"embload {command}: warning: {message}", file=sys.stderr if file is None else file)
    return show


def main(argv=None):
    """Run the ``embload`` command; return the exit status (0 done, 1 bad input, 2 usage,
    128 + N when signal N (SIGINT, SIGTERM, SIGHUP) ended it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "demo":
        # the demo has its own options (and its own --help)
        from .demo import main as demo_main

        return demo_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.no_progress_global:
        args.progress = False
    # Ctrl-C, a closed terminal (SIGHUP) and kill, timeout or docker stop (SIGTERM) raise
    # an exception, so that a file being written is removed on the way out.
    signals = interrupt_on_signals()
    try:
        with signals, warnings.catch_warnings():
            # a warning is a line for the person at the terminal, like an error: the
            # command and the message, not a Python file and line (the filters stay)
            warnings.showwarning = _warning_printer(args.command)
            return args.func(args)
    except UsageError as exc:
        print(f"usage: embload {args.command} ...\nembload {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (EmbeddingFormatError, ValueError, OSError, UnicodeError, TypeError) as exc:
        if signals.received:   # failed while unwinding (after SIGHUP the terminal is gone)
            return _interrupted(args.command, signals.received)
        if isinstance(exc, BrokenPipeError):
            return EXIT_OK
        print(f"embload {args.command}: error: {_error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return _interrupted(args.command, signals.received or signal.SIGINT)


def _interrupted(command, signum):
    """Exit status 128 + ``signum``, as a shell reports a process that signal ended."""
    remove_live_temporaries()   # any write still open in another thread
    try:
        print(f"embload {command}: interrupted ({signal.Signals(signum).name}); the file being "
              "written was removed, an existing one is as it was", file=sys.stderr)
    except (OSError, ValueError):   # no terminal left to tell
        pass
    return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
