"""WordList / WordIndex (embload._words, src/wordarena.h, src/wordhash.h) against Python
lists, dicts and the bytes.decode of CPython as references."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import embload
from embload._words import WordIndex, WordList

# words as files have them: ASCII, accents, CJK, emoji, spaces, the odd "\n" (binary
# files), lone surrogates (errors="surrogateescape")
word_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(["\n", " ", "\udcff", "\ud800"])),
    max_size=12)
word_lists = st.lists(word_text, unique=True, max_size=60)


def _arena_of(words, errors="strict"):
    encoded = [w.encode("utf-8", errors) for w in words]
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum([len(e) + 1 for e in encoded], out=offsets[1:])
    return b"".join(e + b"\n" for e in encoded), offsets


@settings(max_examples=200, deadline=None)
@given(word_lists)
def test_from_words_is_the_list(words):
    wl = WordList.from_words(words)
    assert len(wl) == len(words)
    assert wl == words and list(wl) == words and wl.tolist() == words
    for i, w in enumerate(words):
        assert wl.find(w) == i and wl.index(w) == i and w in wl
    assert wl[:3] == words[:3] and wl[::-2] == words[::-2]
    if words:
        assert wl[-1] == words[-1]
    assert pickle.loads(pickle.dumps(wl)) == words


@settings(max_examples=200, deadline=None)
@given(word_lists, st.lists(word_text, max_size=10))
def test_lookups_from_raw_arena_match_a_dict(words, probes):
    errors = "surrogatepass" if any("\ud800" <= c <= "\udfff" for w in words for c in w) else "strict"
    arena, offsets = _arena_of(words, errors)
    wl = WordList(arena, offsets, errors)  # decoded lazily, word by word
    reference = dict(zip(words, range(len(words))))
    for i in range(len(words)):
        assert wl[i] == words[i]
    for probe in probes + words:
        assert wl.find(probe) == reference.get(probe, -1)
    index = WordIndex(wl)
    assert index == reference and dict(index) == reference
    assert list(index.items()) == list(reference.items())
    assert list(index.values()) == list(reference.values())
    for probe in probes:
        assert index.get(probe, "absent") == reference.get(probe, "absent")
        assert (probe in index) == (probe in reference)
    assert list(wl) == words  # after lookups, the one-pass decode


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40), st.sampled_from(["strict", "surrogatepass"]))
def test_utf8_check_matches_python(raw, errors):
    raw = raw.replace(b"\n", b" ")
    try:
        expected = raw.decode("utf-8", errors)
    except UnicodeDecodeError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError, match="not valid UTF-8") as info:
            WordList(raw + b"\n", [0, len(raw) + 1], errors)
        assert info.value.row == 0
    else:
        assert WordList(raw + b"\n", [0, len(raw) + 1], errors)[0] == expected


@pytest.mark.parametrize("raw", [
    b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",  # overlong
    b"\xed\xa0\x80",                                      # surrogate
    b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",             # above U+10FFFF
    b"abc\xe2\x82", b"\x80", b"ok\xff",                   # cut short, stray bytes
])
def test_utf8_check_rejects_what_python_rejects(raw):
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        WordList(b"fine\n" + raw + b"\n", [0, 5, 5 + len(raw) + 1])


def test_surrogates_pass_only_when_asked():
    raw = "\ud800".encode("utf-8", "surrogatepass")
    assert WordList(raw + b"\n", [0, 4], "surrogatepass")[0] == "\ud800"
    with pytest.raises(ValueError):
        WordList(raw + b"\n", [0, 4])


@pytest.mark.parametrize("offsets", [[0, 3, 2], [1, 0], [0, 99], [-1, 2], [0, 0],
                                     [0, 10**9, 3], [0, 2, 10**9, 6]])  # huge, then smaller
def test_bad_offsets_are_errors_not_crashes(offsets):
    with pytest.raises(ValueError, match="offsets"):
        WordList(b"ab\ncd\n", offsets)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=6), st.sampled_from([b"\n", b" ", b"\xff"])),
                max_size=6),
       st.sampled_from(["strict", "surrogatepass"]))
def test_first_bad_word_and_plainness_match_python(parts, errors):
    # the whole-span check (all separators "\n") and the word-by-word one must name the
    # same first bad word as decoding each word in Python
    arena = b"".join(w + sep for w, sep in parts)
    offsets = np.cumsum([0] + [len(w) + 1 for w, _ in parts])
    bad = None
    for row, (w, _) in enumerate(parts):
        try:
            w.decode("utf-8", errors)
        except UnicodeDecodeError:
            bad = row
            break
    if bad is not None:
        with pytest.raises(ValueError, match="not valid UTF-8") as info:
            WordList(arena, offsets, errors)
        assert info.value.row == bad
        return
    wl = WordList(arena, offsets, errors)
    words = [w.decode("utf-8", errors) for w, _ in parts]
    assert wl.utf8_arena()[2] == (all(sep == b"\n" for _, sep in parts[:-1])
                              and not any("\n" in w for w in words))
    assert list(wl) == words


def test_duplicates_are_counted_and_the_first_wins():
    wl = WordList.from_lines(b"a\nb\na\nc\nb")
    assert wl.build_index() == 2
    assert wl.first_duplicate() == (2, 0)
    assert wl.find("a") == 0 and wl.find("b") == 1
    with pytest.raises(ValueError, match="duplicate word 'a'"):
        WordIndex(wl)["c"]
    with pytest.raises(ValueError, match="duplicate word 'a'"):
        embload.Vectors(wl, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="duplicate word 'x'"):
        embload.Vectors(["x", "y", "x"], np.zeros((3, 2)))


def test_list_behaviour():
    wl = WordList.from_words(["the", "of", "été"])
    assert wl.index("of") == 1 and wl.count("of") == 1 and wl.count("zz") == 0
    with pytest.raises(ValueError, match="not in the word list"):
        wl.index("zz")
    with pytest.raises(ValueError):
        wl.index("the", 1)
    with pytest.raises(IndexError):
        wl[3]
    assert wl[np.int64(2)] == "été"
    assert 3 not in wl and None not in wl and b"the" not in wl
    assert wl + ["x"] == ["the", "of", "été", "x"] and ["x"] + wl == ["x", "the", "of", "été"]
    assert list(reversed(wl)) == ["été", "of", "the"]
    assert wl != ["the"] and wl != "the of été"
    assert copy.deepcopy(wl) is wl
    with pytest.raises(TypeError):
        hash(wl)
    with pytest.raises(TypeError):
        wl[0] = "x"
    assert repr(wl) == "WordList(['the', 'of', 'été'])"
    assert "399994 more" not in repr(wl)
    from collections.abc import Sequence
    assert isinstance(wl, Sequence)
    assert WordList.empty() == [] and len(WordList.from_lines(b"")) == 1


def test_from_words_needs_str():
    with pytest.raises(TypeError, match="word 1 is int"):
        WordList.from_words(["a", 3])


def test_loaded_vectors_keep_words_as_bytes(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("the 1 2\nété 3 4\nthe 5 6\nof 7 8\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="1 duplicate word dropped"):
        v = embload.load(path)
    assert isinstance(v.words, WordList) and isinstance(v.key_to_index, WordIndex)
    assert v.words == ["the", "été", "of"] and v.index("of") == 2
    assert v["été"].tolist() == [3, 4]
    path.write_bytes(b"a 1\n\xff 2\n")
    v = embload.load(path, errors="replace")
    assert v.words == ["a", "\ufffd"] and v.index("\ufffd") == 1
    v = embload.load(path, errors="surrogateescape")
    assert v.words == ["a", "\udcff"] and v.index("\udcff") == 1 and v.words.errors == "surrogatepass"


def test_a_mutable_arena_is_copied():
    blob = bytearray(b"ab\ncd\n")
    wl = WordList(blob, [0, 3, 6])
    blob[:] = b"x" * 1000  # resizing the caller's buffer must not touch the list
    assert wl == ["ab", "cd"] and wl.find("cd") == 1


@settings(max_examples=200, deadline=None)
@given(word_lists, word_lists)
def test_equality_of_two_word_lists_is_list_equality(a, b):
    # from_words keeps a decoded list; a raw arena does not: compare each kind with each
    def kinds(words):
        errors = "surrogatepass" if any("\ud800" <= c <= "\udfff" for w in words for c in w) else "strict"
        return [WordList.from_words(words), WordList(*_arena_of(words, errors), errors)]

    for x in kinds(a):
        for y in kinds(b) + kinds(a):
            expected = list(x) == list(y)
            assert (x == y) is expected and (x != y) is not expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=20), max_size=80), st.lists(st.binary(max_size=20), max_size=20))
def test_one_word_table_for_word_lists_and_alignment(keys, probes):
    """The WordList index and alignment's wanted-word table are the same C table
    (src/wordhash.h): both answer like a dict of the bytes, first of equal keys kept;
    the lowercase lookup like a dict of ASCII-lowercased bytes."""
    from embload import _align

    first = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    unique = list(first)
    table = _align.WordTable(unique, [first[k] * 3 for k in unique])
    lowered = {}
    for k in unique:
        lowered.setdefault(k.lower(), first[k] * 3)
    lower_table = _align.WordTable(list(lowered), list(lowered.values()))
    valid = []
    for k in keys:
        try:
            valid.append(k.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    words = WordList(*_arena_of(valid))
    first_word = {}
    for i, w in enumerate(valid):
        first_word.setdefault(w, i)
    for probe in keys + probes:
        assert table.get(probe) == (first[probe] * 3 if probe in first else -1)
        assert lower_table.get_lower(probe) == lowered.get(probe.lower(), -1)
        try:
            text = probe.decode("utf-8")
        except UnicodeDecodeError:
            continue
        assert words.find(text) == first_word.get(text, -1)
    if len(unique) < len(keys):
        with pytest.raises(ValueError, match="duplicate key"):
            _align.WordTable(keys, range(len(keys)))
