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
