"""A user's vocabulary, in whatever form it comes: the tokens a matrix is built for.

Two questions are asked of a vocabulary, and both are answered here, from one reader
of vocabulary files:

* :func:`read_vocabulary` -- which row is each token's? (a :class:`Vocabulary`, for
  alignment; :func:`read_word_index` gives just its ``{token: id}``)
* :func:`read_vocab` -- which words, in which order? (a list, for ``convert(vocab=...)``)

Forms accepted by :func:`read_vocabulary`:

* a mapping ``{token: id}`` with any ids ``>= 0`` (0-based as PyTorch and Hugging Face
  number them, 1-based as Keras does, or sparse: an id no token holds is an unused row);
* a sequence of tokens (torchtext's ``itos``, a list): the token at position ``i`` has
  id ``i``;
* an object with ``get_stoi()`` (torchtext ``Vocab``), ``get_vocab()`` (Hugging Face
  ``tokenizers.Tokenizer`` and ``transformers`` tokenizers; their special tokens are
  taken from ``all_special_tokens`` or the added-tokens decoder), ``word_index`` (a Keras
  ``Tokenizer``: its ``num_words`` is honoured, rows = ``min(num_words, len(word_index) + 1)``)
  or a ``vocab`` mapping;
* a path to a vocabulary file (below).

Vocabulary files, all UTF-8 (a BOM is skipped), ``\\n`` or ``\\r\\n`` line ends:

* JSON (the file starts with ``{``): a Keras tokenizer (``Tokenizer.to_json()``, its
  ``num_words`` honoured as above); a Hugging Face ``tokenizer.json`` (WordLevel,
  WordPiece and BPE models: ``model.vocab`` is ``{token: id}``; Unigram: ``model.vocab``
  is a list of ``[piece, score]``, id = position; plus ``added_tokens``, whose ``special``
  ones are the special tokens); or a plain object ``{token: id}`` (a ``vocab.json``).
* A sentencepiece ``.vocab``: every line ``piece<TAB>score`` (scores are never above 0);
  the piece on line ``n`` (counting from 1) has id ``n - 1``, as sentencepiece numbers
  them. ``word<TAB>count`` lines with counts above 0 are a word list with counts (below).
* One token per line (``vocab.txt``; a token may hold spaces). When every line is
  ``word COUNT`` (word2vec's ``-save-vocab``, GloVe's ``vocab_count``; a tab may separate
  them) the counts are dropped. A blank line is an error (it would shift every later
  token by one row), except blank lines at the very end; so is a token on two lines. The numbering is
  never guessed silently: ``start=0`` (Hugging Face's ``vocab.txt``) or ``start=1``
  (Keras, row 0 padding) says it; without ``start``, a file whose first line is a
  special token (``[PAD]``, ``<pad>``, ``<unk>``, ``<s>``, ``[CLS]``, ...) is read from
  0, any other from 1 (what embload always did, so Keras users' results do not change)
  with an :class:`~embload.errors.AmbiguousNumberingWarning`, and
  :attr:`Vocabulary.notes` says which was taken and why (the alignment summary prints it). ``start=1`` on a file whose first line is a special token warns.
* A file of vectors (a word followed by several numbers on each line) is refused: it is
  the other argument.

*Special tokens* are those the object or file declares (``added_tokens`` marked special,
``all_special_tokens``, the model's ``unk_token``) and every token of the form
``<...>`` or ``[...]`` without spaces. *Padding tokens* are ``<pad>``, ``<PAD>``,
``[PAD]`` and ``[pad]``.

Errors name the file, the line and the offending text.
"""

import json
import os
import re
from collections.abc import Mapping, Sequence

import numpy as np

from .text import tokenizer_word_index
from .errors import AmbiguousNumberingWarning, EmbeddingFormatError, shorten, warn

__all__ = ["Vocabulary", "read_vocabulary", "read_word_index", "read_vocab",
           "read_vocabulary_file", "word_index_from_json", "is_special", "PADDING_TOKENS"]

PADDING_TOKENS = frozenset({"<pad>", "<PAD>", "[PAD]", "[pad]"})
# <unk>, </s>, [CLS], <|endoftext|>: bracketed, no blanks inside
_SPECIAL_SHAPE = re.compile(r"<[^\s<>]+>|\[[^\s\[\]]+\]")
# a field that reads as a number (vectors files; sentencepiece scores)
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|nan)", re.IGNORECASE)


def is_special(token):
    """Is ``token`` shaped like a special token: ``<...>`` or ``[...]`` without blanks?"""
    return _SPECIAL_SHAPE.fullmatch(token) is not None


class Vocabulary:
    """A vocabulary, normalised: token -> id, and what it was read as.

    Attributes
    ----------
    ids : dict
        ``{token: id}``, ids ``>= 0``, in the order the source lists them.
    num_rows : int or None
        The rows the source itself asks for (a Keras ``num_words``), else None (then
        the largest id + 1).
    kind : str
        What the vocabulary was read as, for a person ("Keras tokenizer JSON",
        "tokenizer.json (WordPiece)", "vocab.txt, numbered from 0", ...).
    specials : frozenset
        Tokens the source declares special (the shape rule of :func:`is_special`
        comes on top, see :meth:`is_special`).
    notes : list of str
        What a person must know about how it was read (the numbering taken).
    tokenizer : object or None
        The Hugging Face tokenizer the ids come from (a tokenizer object, or the path of
        its ``tokenizer.json``): :meth:`AlignedEmbedding.save_pretrained` writes it out.
    """

    def __init__(self, ids, *, num_rows=None, kind="mapping", specials=(), notes=(), tokenizer=None):
        self.ids = _checked_ids(ids)
        self.num_rows = num_rows
        self.kind = kind
        self.specials = frozenset(specials)
        self.notes = list(notes)
        self.tokenizer = tokenizer

    def is_special(self, token):
        return token in self.specials or is_special(token)

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        return f"<Vocabulary {len(self.ids)} tokens, {self.kind}>"


def _checked_ids(ids):
    out = dict(ids)
    # the usual vocabulary passes three passes in C; the loop below says what is wrong
    if (all(type(token) is str for token in out) and all(type(row) is int for row in out.values())
            and (not out or min(out.values()) >= 0)):
        return out
    out = {}
    for token, row in ids.items():
        if not isinstance(token, str):
            raise TypeError(f"word_index keys must be str, got {type(token).__name__} {token!r}")
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)):
            raise TypeError(f"word_index[{token!r}] = {row!r}: rows must be ints")
        if row < 0:
            raise ValueError(f"word_index[{token!r}] = {row}: rows must be >= 0")
        out[token] = int(row)
    return out


def read_vocabulary(vocabulary, *, start=None):
    """Normalise any accepted form of vocabulary (see the module docstring).

    Parameters
    ----------
    vocabulary : mapping, sequence of str, object, str or os.PathLike
    start : {0, 1}, optional
        The id of the first line of a one-token-per-line file. Default: 0 when the
        first line is a special token, else 1 (Keras), said in ``notes``.

    Returns
    -------
    Vocabulary
    """
    if start is not None and (isinstance(start, bool) or start not in (0, 1)):
        raise ValueError(f"start must be 0, 1 or None, not {start!r}")
    if isinstance(vocabulary, Vocabulary):
        return vocabulary
    if isinstance(vocabulary, (str, bytes, os.PathLike)):
        return _read_file(os.fsdecode(os.fspath(vocabulary)), start)
    if start is not None:
        raise ValueError("start= numbers the lines of a vocabulary file; a "
                         f"{type(vocabulary).__name__} already carries its ids")
    if isinstance(vocabulary, Mapping):
        return Vocabulary(dict(vocabulary), kind="mapping")
    if isinstance(vocabulary, Sequence) or (isinstance(vocabulary, np.ndarray)
                                            and vocabulary.ndim == 1):
        return _from_tokens(list(vocabulary), "token list (id = position)")
    stoi = getattr(vocabulary, "get_stoi", None)
    if callable(stoi):
        return Vocabulary(dict(stoi()), kind="torchtext Vocab (get_stoi)")
    get_vocab = getattr(vocabulary, "get_vocab", None)
    if callable(get_vocab):
        ids = dict(get_vocab())
        # get_vocab() is a dict in hash order: list it by id
        ids = dict(sorted(ids.items(), key=lambda item: item[1]))
        return Vocabulary(ids, kind="Hugging Face tokenizer (get_vocab)",
                          specials=_declared_specials(vocabulary), tokenizer=vocabulary)
    inner = getattr(vocabulary, "word_index", None)
    if isinstance(inner, Mapping):
        return _keras(dict(inner), getattr(vocabulary, "num_words", None), "Keras Tokenizer")
    inner = getattr(vocabulary, "vocab", None)
    if isinstance(inner, Mapping):
        return Vocabulary(dict(inner), kind=f"{type(vocabulary).__name__}.vocab")
    raise TypeError(
        "word_index must be a dict {token: id}, a list of tokens, a tokenizer (an object with "
        "get_stoi(), get_vocab(), word_index or vocab), or a path to a vocabulary file "
        "(tokenizer.json, a Keras tokenizer JSON, vocab.txt, a sentencepiece .vocab), "
        f"not {type(vocabulary).__name__}")


def _from_tokens(tokens, kind, notes=()):
    ids = {}
    repeated = []
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise TypeError(f"the vocabulary's entry {i} is a {type(token).__name__} "
                            f"{token!r}, not a str token")
        if ids.setdefault(token, i) != i:
            repeated.append(i)
    notes = list(notes)
    if repeated:
        notes.append(f"{len(repeated)} repeated token(s) keep their first id; ids "
                     f"{_cut(', '.join(map(str, repeated)))} hold no token (rows of zeros)")
    return Vocabulary(ids, num_rows=len(tokens), kind=kind, notes=notes)


def _cut(text, limit=100):
    return text if len(text) <= limit else text[:limit] + " ..."


def _declared_specials(tokenizer):
    """Special tokens a Hugging Face tokenizer declares."""
    out = set()
    named = getattr(tokenizer, "all_special_tokens", None)   # transformers
    if named:
        out.update(t for t in named if isinstance(t, str))
    decoder = getattr(tokenizer, "get_added_tokens_decoder", None)  # tokenizers
    if callable(decoder):
        for added in decoder().values():
            if getattr(added, "special", False):
                out.add(str(getattr(added, "content", added)))
    return out


def _keras(word_index, num_words, kind):
    """Keras' numbering: rows = min(num_words, len(word_index) + 1); 0 is padding."""
    notes = []
    num_rows = None
    if num_words:
        num_rows = min(int(num_words), len(word_index) + 1)
        if num_rows < len(word_index) + 1:
            notes.append(f"{kind} has num_words={num_words}: {num_rows} rows, the "
                         f"{len(word_index) + 1 - num_rows} rarest words left out "
                         "(pass num_words= to choose)")
    return Vocabulary(word_index, num_rows=num_rows, kind=kind, notes=notes)


def read_word_index(word_index, *, start=None):
    """``{token: id}`` of any accepted vocabulary (see :func:`read_vocabulary`).

    A new dict in the source's order; ids are checked to be ints ``>= 0``.
    """
    return read_vocabulary(word_index, start=start).ids


def read_vocab(vocab):
    """The words of a vocabulary, in order, each once: for ``convert(vocab=...)``.

    Parameters
    ----------
    vocab : str, os.PathLike, mapping or iterable of str
        A vocabulary file (see the module docstring; its tokens in id order), a mapping
        (its keys, in order) or any iterable of words (a repeated word keeps its first
        place).

    Returns
    -------
    list of str
    """
    if isinstance(vocab, (str, bytes, os.PathLike)):
        words = read_vocabulary_file(os.fsdecode(os.fspath(vocab)))
        if isinstance(words, dict):
            words = sorted(words, key=words.__getitem__)
        return list(words)
    words = list(vocab)
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"vocab must hold words (str), got {type(word).__name__} {word!r}")
    return list(dict.fromkeys(words))


def read_vocabulary_file(path):
    """The tokens of a vocabulary file in line order (a list), or for a JSON file its
    ``{token: id}`` (a dict). The rules are in the module docstring."""
    kind, tokens = _read_lines_or_json(path)
    return tokens if kind != "json" else tokens.ids


def _read_file(path, start):
    kind, content = _read_lines_or_json(path)
    if kind == "json":
        if start is not None:
            raise ValueError(f"{path}: start= numbers the lines of a one-token-per-line file; "
                             f"this is a {content.kind}, which carries its own ids")
        return content
    name = os.path.basename(path)
    if kind == "sentencepiece":
        if start not in (None, 0):
            raise ValueError(f"{path}: a sentencepiece .vocab numbers its pieces from 0 "
                             f"(line 1 is id 0); start={start} does not apply")
        return _from_tokens(content, f"sentencepiece vocabulary {name}",
                            notes=[f"{name}: sentencepiece pieces, numbered from 0"])
    first = content[0] if content else None
    if start is None:
        if first is not None and is_special(first):
            start = 0
            note = (f"{name}: line 1 is the special token {first!r}, so the file is numbered "
                    "from 0 (line 1 -> id 0), as Hugging Face and torchtext do; pass start=1 "
                    "for Keras numbering")
            if first not in PADDING_TOKENS:
                # a padding token first settles it (Keras gives padding no token); an
                # unknown-word token first is also how a Keras tokenizer with an oov_token
                # lists its word_index (oov at 1): say it, never shift every row silently
                warn(f"{path}: line 1 is {first!r}, read as id 0 (Hugging Face, torchtext); "
                     f"a Keras tokenizer with oov_token={first!r} numbers it 1: pass "
                     f"start=1 for that, or start=0 to say this reading is right", AmbiguousNumberingWarning)
        else:
            start = 1
            note = (f"{name}: numbered from 1 (line 1 -> id 1, row 0 padding), as Keras does; "
                    "nothing in the file says so: pass start=0 if line 1 is your id 0")
            # a wrong guess shifts every row by one, and the notes are read only by those who
            # call summary(): say it where it is seen
            warn(f"{path}: line 1 {first!r} read as id 1 (Keras numbering, row 0 "
                 "padding); nothing in the file says whether it is id 0 (torchtext, "
                 "a list's index): pass start=1 to confirm, start=0 if it is id 0", AmbiguousNumberingWarning)
    else:
        note = f"{name}: numbered from {start} (start={start})"
        if start == 1 and first is not None and is_special(first):
            warn(f"{path}: read from 1 (start=1), but line 1 is the special token "
                 f"{first!r}, which tokenizers that write such files number 0; "
                 "every row is shifted by one if they did", UserWarning)
    vocab = _from_tokens(content, f"vocabulary file {name}, numbered from {start}", notes=[note])
    if start:
        vocab.ids = {token: row + start for token, row in vocab.ids.items()}
        vocab.num_rows += start
    return vocab


def _read_lines_or_json(path):
    """("json", Vocabulary) | ("sentencepiece", pieces) | ("lines", tokens)."""
    with open(path, "rb") as handle:
        data = handle.read()
    text = _decode(data, path)
    if text.lstrip().startswith("{"):
        try:
            return "json", _vocabulary_from_json(text, path)
        except EmbeddingFormatError:
            raise
        except (TypeError, ValueError) as exc:   # ids of the wrong type or sign in the file
            raise EmbeddingFormatError(str(exc), path=path) from None
    lines = text.split("\n")
    while lines and lines[-1].strip("\r") == "":
        lines.pop()   # blank lines at the very end shift nothing
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines:
        # an empty file is a wrong path or a failed write, never a vocabulary: aligning
        # to it would give one row of zeros and coverage 0 without a word
        raise EmbeddingFormatError("vocabulary file holds no tokens (it is empty or blank)",
                                   path=path)
    for number, line in enumerate(lines, 1):
        if line == "":
            raise EmbeddingFormatError(
                "empty line in a vocabulary file (one word per line; the word on line n gets "
                "row n, so a blank line would shift every later word)", path=path, line=number)
    _refuse_vectors_file(lines, path)
    kind = "lines"
    if lines and all(line.count("\t") == 1 and _NUMBER.fullmatch(line.split("\t")[1])
                     for line in lines) and not _all_counts(line.split("\t")[1] for line in lines):
        kind = "sentencepiece"
        lines = [line.split("\t")[0] for line in lines]
    else:
        pairs = [line.rsplit(None, 1) for line in lines]
        if lines and all(len(pair) == 2 and pair[1].isascii() and pair[1].isdigit()
                         for pair in pairs):
            lines = [pair[0] for pair in pairs]   # "word count" lines: the counts are dropped
    first = {}
    for number, word in enumerate(lines, 1):
        earlier = first.setdefault(word, number)
        if earlier != number:
            raise EmbeddingFormatError(f"word {word!r} is already on line {earlier}", path=path,
                                       line=number)
    return kind, lines


def _all_counts(fields):
    """Are these second fields word counts (digits, some above 0), not sentencepiece scores?

    A sentencepiece score is a log-probability or a negated merge rank, never above 0;
    ``word<TAB>count`` files (word frequency lists) are numbered like ``word count`` ones.
    """
    positive = False
    for field in fields:
        if not (field.isascii() and field.isdigit()):
            return False
        positive = positive or field.strip("0") != ""
    return positive


def _refuse_vectors_file(lines, path):
    """A word followed by several numbers on every one of the first lines is a vectors
    file (maybe after a word2vec ``count dim`` header): not a vocabulary."""
    head = lines[:5]
    if head and len(head[0].split()) == 2 and all(f.isdigit() for f in head[0].split()):
        head = lines[1:6]
    if not head:
        return
    for line in head:
        fields = line.split()
        if len(fields) < 3 or not all(_NUMBER.fullmatch(f) for f in fields[-2:]):
            return
    dim = len(head[0].split()) - 1
    raise EmbeddingFormatError(
        f"this looks like a file of word vectors (a word followed by {dim} numbers), not a "
        "vocabulary: pass it as the vectors file and your tokenizer's vocabulary (its "
        "word_index, vocab.txt or tokenizer.json) as word_index",
        path=path, line=lines.index(head[0]) + 1, text=head[0])


def _decode(data, path):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raw = exc.object  # without the BOM, which exc.start does not count
        line = raw.count(b"\n", 0, exc.start) + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        at = exc.start + len(data) - len(raw)
        raise EmbeddingFormatError(
            f"vocabulary file is not valid UTF-8 ({exc.reason} at byte {at})", path=path,
            line=line, text=raw[start:end if end >= 0 else len(raw)]) from None


class _RepeatedKey(Exception):
    pass


def _unique_keys(pairs):
    """json.loads' object_pairs_hook: the dict, or _RepeatedKey(key, first, second)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise _RepeatedKey(key, _cut(repr(seen[key]), 60), _cut(repr(value), 60))
            seen[key] = value
    return out


def word_index_from_json(text, path):
    """``{token: id}`` of a JSON vocabulary (Keras tokenizer, Hugging Face
    ``tokenizer.json`` or a plain object); ``path`` names the file in errors."""
    return _vocabulary_from_json(text, path).ids


def _vocabulary_from_json(text, path):
    try:
        obj = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise EmbeddingFormatError(f"not valid JSON ({exc})", path=path) from None
    except _RepeatedKey as exc:
        # json.loads would keep the last of the two silently: which id is meant?
        raise EmbeddingFormatError(f"the key {exc.args[0]!r} appears twice in one JSON object "
                                   f"(ids {exc.args[1]} and {exc.args[2]}); a damaged "
                                   "vocabulary?", path=path) from None
    name = os.path.basename(path)
    if isinstance(obj, dict) and "config" in obj and isinstance(obj["config"], dict):
        config = obj["config"]
        inner = tokenizer_word_index(config, path)   # the one reader of a Keras config's word_index
        num_words = config.get("num_words")
        if isinstance(num_words, bool) or not isinstance(num_words, (int, type(None))):
            raise EmbeddingFormatError(f"config.num_words is {num_words!r}, not an int or null",
                                       path=path)
        return _keras(inner, num_words, f"Keras tokenizer JSON {name}")
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict) and "vocab" in obj["model"]:
        return _hugging_face(obj, path, name)
    if isinstance(obj, dict):
        return Vocabulary(obj, kind=f"JSON {{token: id}} {name}")
    raise EmbeddingFormatError(f"JSON holds a {type(obj).__name__}; expected a Keras tokenizer "
                               "JSON, a Hugging Face tokenizer.json or an object {token: id}",
                               path=path)


def _hugging_face(obj, path, name):
    """A ``tokenizers`` ``tokenizer.json``: the model's vocabulary plus added tokens."""
    model = obj["model"]
    model_type = model.get("type") or "model"
    vocab = model["vocab"]
    specials = set()
    if isinstance(vocab, dict):          # WordLevel, WordPiece, BPE
        ids = dict(vocab)
    elif isinstance(vocab, list):        # Unigram: [[piece, score], ...], id = position
        ids = {}
        for i, entry in enumerate(vocab):
            if not (isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str)):
                raise EmbeddingFormatError(f"model.vocab[{i}] is {shorten(repr(entry))}; "
                                           "expected [piece, score]", path=path)
            ids.setdefault(entry[0], i)
        unk = model.get("unk_id")
        if isinstance(unk, int) and 0 <= unk < len(vocab):
            specials.add(vocab[unk][0])
    else:
        raise EmbeddingFormatError(f"model.vocab is a {type(vocab).__name__}; expected an "
                                   "object {token: id} or a list of [piece, score]", path=path)
    if isinstance(model.get("unk_token"), str):
        specials.add(model["unk_token"])
    notes = []
    for added in obj.get("added_tokens") or ():
        if not isinstance(added, dict) or not isinstance(added.get("content"), str) \
                or isinstance(added.get("id"), bool) or not isinstance(added.get("id"), int):
            raise EmbeddingFormatError(f"added_tokens holds {shorten(repr(added))}; expected "
                                       '{"id": int, "content": str, ...}', path=path)
        token, row = added["content"], added["id"]
        if ids.get(token, row) != row:
            notes.append(f"added token {token!r} has id {row}, the model's vocabulary "
                         f"{ids[token]}: id {row} taken")
        ids[token] = row
        if added.get("special"):
            specials.add(token)
    return Vocabulary(ids, kind=f"Hugging Face {name} ({model_type})", specials=specials,
                      notes=notes, tokenizer=path)
