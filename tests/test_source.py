"""embload._source: bytes out of plain and compressed files, chosen by magic bytes."""
import bz2
import gzip
import lzma
import zipfile

import pytest

from embload._source import detect_compression, open_source

DATA = bytes(range(256)) * 100


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, blob in [(None, DATA), ("gzip", gzip.compress(DATA)), ("bz2", bz2.compress(DATA)),
                       ("xz", lzma.compress(DATA))]:
        path = tmp_path / f"f-{name}"
        path.write_bytes(blob)
        out[name] = path
    path = tmp_path / "f.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as z:
        z.writestr("only", DATA)
    out["zip"] = path
    return out


@pytest.mark.parametrize("compression", [None, "gzip", "bz2", "xz", "zip"])
@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_readinto_returns_the_data(files, compression, chunk):
    with open_source(files[compression]) as src:
        assert src.compression == compression
        buf = bytearray(chunk)
        out = bytearray()
        while True:
            n = src.readinto(memoryview(buf))
            if not n:
                break
            out += buf[:n]
        assert bytes(out) == DATA
        assert src.position() == src.total
        if compression == "zip":
            assert src.member == "only" and src.total == len(DATA)
        else:
            assert src.total == files[compression].stat().st_size


def test_detect_compression():
    assert detect_compression(b"\x1f\x8b\x08") == "gzip"
    assert detect_compression(b"BZh9") == "bz2"
    assert detect_compression(b"\xfd7zXZ\x00") == "xz"
    assert detect_compression(b"PK\x03\x04") == "zip"
    assert detect_compression(b"the 0.1") is None
    assert detect_compression(b"") is None


def test_closes_file_on_error(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"abc")
    with pytest.raises(ValueError, match="only for zip archives"):
        open_source(path, member="m")


@pytest.mark.parametrize("what", ["method", "encrypted"])
def test_unreadable_zip_member_names_the_file(tmp_path, what):
    import struct

    import embload
    from embload import EmbeddingFormatError

    path = tmp_path / "v.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("v.txt", b"a 1 2\n" * 100)
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    if what == "method":  # a method zipfile cannot read (99: WinZip AES)
        raw[8:10] = raw[central + 10:central + 12] = struct.pack("<H", 99)
    else:  # the "encrypted" flag bit
        raw[6:8] = raw[central + 8:central + 10] = struct.pack("<H", 1)
    path.write_bytes(bytes(raw))
    with pytest.raises(EmbeddingFormatError, match=r"cannot read zip member 'v.txt'") as info:
        embload.load(path)
    assert str(info.value).startswith(f"{path}: ")
