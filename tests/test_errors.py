"""Error messages (embload.errors): bounded, never failing on odd bytes."""
import pickle

from embload.errors import EmbeddingFormatError, shorten


def test_shorten_bytes_matches_decoding_everything():
    for raw in [b"abc", "\u00e9\u4e2d\U0001f600".encode() * 60, b"\xff\xfe" * 300, b"x" * 101]:
        whole = raw.decode("utf-8", errors="backslashreplace")
        expect = repr(whole[:100] + "..." if len(whole) > 100 else whole)
        assert shorten(raw) == expect
        assert shorten(bytearray(raw)) == expect and shorten(memoryview(raw)) == expect


def test_huge_line_is_cut_and_message_names_place():
    err = EmbeddingFormatError("bad", path="f.vec", line=7, text=b"z" * 10_000_000)
    assert str(err) == "f.vec, line 7: bad: " + repr("z" * 100 + "...")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.line == 7


def _warnings_of(call):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def test_warnings_name_the_callers_line(tmp_path):
    # Each warning points at the user's line, whichever entry point led to it (a fixed
    # stacklevel names the right line for one path only).
    import numpy as np

    import embload
    from embload.vocabulary import read_vocabulary

    dup = tmp_path / "dup.txt"
    dup.write_text("the 1 2\ncat 3 4\nthe 5 6\n", encoding="utf-8")
    short = tmp_path / "short.vec"
    short.write_text("3 2\nthe 1 2\ncat 3 4\n", encoding="utf-8")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("the\ncat\n", encoding="utf-8")
    calls = {
        "load, duplicates": lambda: embload.load(dup, progress=False),
        "convert, duplicates": lambda: embload.convert(dup, tmp_path / "out.vec", progress=False),
        "load, short header": lambda: embload.load(short, progress=False),
        "vocabulary from 1": lambda: read_vocabulary(vocab),
        "load_aligned, vocabulary file": lambda: embload.load_aligned(dup, vocab, progress=False),
        "low coverage": lambda: embload.Vectors(["x"], np.ones((1, 2), np.float32)).align(
            {f"w{i}": i for i in range(1, 100)}),
        "low coverage, from a file": lambda: embload.load_aligned(dup, {f"w{i}": i for i in range(1, 100)},
                                                                  progress=False),
    }
    for name, call in calls.items():
        caught = _warnings_of(call)
        assert caught, name
        assert {w.filename for w in caught} == {__file__}, (name, [(w.filename, str(w.message)) for w in caught])


def test_command_line_prints_warnings_as_lines(tmp_path, capsys):
    from embload.cli import main

    dup = tmp_path / "dup.txt"
    dup.write_text("the 1 2\ncat 3 4\nthe 5 6\n", encoding="utf-8")
    assert main(["convert", str(dup), str(tmp_path / "out.vec"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"embload convert: warning: {dup}: 1 duplicate word dropped"), err
