"""embload.formats: the format is decided from the bytes, and sniff() reports what it saw."""
import gzip

import numpy as np
import pytest

import embload
from embload import EmbeddingFormatError
from embload.formats import FormatInfo, sniff


def write(tmp_path, data, name="f"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_glove(tmp_path):
    info = sniff(write(tmp_path, b"the 0.1 0.2 0.3\nof 1 2 3\n", "x.bin"))
    assert info == FormatInfo("glove", None, None, 3, 0, 0, False, None)
    assert embload.detect_format(tmp_path / "x.bin") == "glove"


def test_word2vec_text(tmp_path):
    info = sniff(write(tmp_path, b"2 3\nthe 0.1 0.2 0.3\nof 1 2 3\n", "x.bin"))
    assert (info.format, info.count, info.dim, info.header_length, info.header_lines) == ("word2vec", 2, 3, 4, 1)


def test_word2vec_binary(tmp_path):
    rec = b"the " + np.array([0.1, -0.2, 0.3], dtype="<f4").tobytes() + b"\n"
    info = sniff(write(tmp_path, b"1 3\n" + rec, "x.txt"))
    assert (info.format, info.count, info.dim, info.header_length) == ("word2vec-binary", 1, 3, 4)


def test_bom_and_crlf_header(tmp_path):
    info = sniff(write(tmp_path, b"\xef\xbb\xbf2 2\r\n\r\na 1 2\r\nb 3 4\r\n"))
    assert (info.format, info.bom, info.header_length, info.dim) == ("word2vec", True, 8, 2)
    info = sniff(write(tmp_path, b"\xef\xbb\xbfa 1 2\n"))
    assert (info.format, info.bom, info.header_length, info.dim) == ("glove", True, 3, 2)


def test_glove_first_word_with_spaces_or_numeric(tmp_path):
    assert sniff(write(tmp_path, b"New York 0.1 0.2\n")).dim == 2
    assert sniff(write(tmp_path, b"1 0.1 0.2\n")).dim == 2
    # "5 3" looks like a header, but the next line has one number: GloVe with dim 1
    info = sniff(write(tmp_path, b"5 3\nword 0.5\n"))
    assert (info.format, info.dim) == ("glove", 1)


def test_compressed_is_looked_into(tmp_path):
    path = write(tmp_path, gzip.compress(b"2 2\na 1 2\nb 3 4\n"), "vectors.txt")
    info = sniff(path)
    assert (info.format, info.compression) == ("word2vec", "gzip")


def test_not_vectors(tmp_path):
    with pytest.raises(EmbeddingFormatError, match=r"line 2: no numbers after the word on the first line"):
        sniff(write(tmp_path, b"\nhello world\n"))


def test_long_first_line(tmp_path):
    line = b"w " + b" ".join(b"0.123456" for _ in range(20000)) + b"\n"
    info = sniff(write(tmp_path, b"2 20000\n" + line + line.replace(b"w", b"v")))
    assert (info.format, info.dim) == ("word2vec", 20000)


def test_utf16_is_named(tmp_path):
    path = write(tmp_path, "the 1 2\n".encode("utf-16"))
    with pytest.raises(EmbeddingFormatError, match=r"line 1: the file starts with a UTF-16 byte-order mark"):
        embload.load(path)
