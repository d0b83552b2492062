"""Byte sources: a plain file or a gzip / bz2 / xz / zip stream, chosen by magic bytes.

The parser pulls bytes with ``readinto(buffer)`` into its own bounded buffer, so a
plain file is read straight into that buffer (no intermediate copy). ``total`` and
``position()`` count the same unit (bytes on disk; for zip, bytes of the member) so
they can drive a progress bar.
"""

import bz2
import gzip
import io
import lzma
import os
import stat
import zipfile
import zlib
from typing import NamedTuple

from .errors import EmbeddingFormatError

__all__ = ["Source", "open_source", "detect_compression", "compression_of_name", "COMPRESSIONS"]


class Compression(NamedTuple):
    name: str       # what Source.compression and FormatInfo.compression say
    suffix: str     # the file-name suffix the writers compress by (read: magic bytes only)
    magic: tuple    # first bytes of such a file


# The one table of compressions: readers tell them by their magic bytes, writers by the
# target's suffix; both import it from here.
COMPRESSIONS = (
    Compression("gzip", ".gz", (b"\x1f\x8b",)),
    Compression("bz2", ".bz2", (b"BZh",)),
    Compression("xz", ".xz", (b"\xfd7zXZ\x00",)),
    Compression("zip", ".zip", (b"PK\x03\x04", b"PK\x05\x06")),  # the second: an empty archive
)


def detect_compression(head):
    """Compression named by the first bytes of a file: "gzip", "bz2", "xz", "zip" or None."""
    for compression in COMPRESSIONS:
        if head.startswith(compression.magic):
            return compression.name
    return None


def compression_of_name(path):
    """The :data:`COMPRESSIONS` entry whose suffix ends ``path`` (any case), or None."""
    name = os.path.basename(os.fspath(path)).lower()
    for compression in COMPRESSIONS:
        if name.endswith(compression.suffix):
            return compression
    return None


class Source:
    """A readable byte stream over ``path``, decompressed when its magic bytes say so.

    Parameters
    ----------
    path : str or os.PathLike
    member : str, optional
        For a zip archive: the member to read. Needed when it holds several files.

    Attributes
    ----------
    compression : str or None
    size : int
        Bytes on disk.
    total : int
        The unit of ``position()`` at the end: ``size``, or for zip the member's size.
    member : str or None
        The zip member read.
    """

    def __init__(self, path, member=None):
        self.path = os.fspath(path)
        self._raw = open(self.path, "rb", buffering=0)
        try:
            self.size = os.fstat(self._raw.fileno()).st_size
            head = self._raw.read(8)
            self._raw.seek(0)
            self.compression = detect_compression(head)
            self.member = None
            self._read_out = 0
            if member is not None and self.compression != "zip":
                raise ValueError(f"member={member!r} is only for zip archives; {self.path} is not one")
            if self.compression is None:
                self._stream = self._raw
            elif self.compression == "gzip":
                self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")
            elif self.compression == "bz2":
                self._stream = bz2.BZ2File(self._raw, mode="rb")
            elif self.compression == "xz":
                self._stream = lzma.LZMAFile(self._raw, mode="rb")
            else:
                try:
                    self._open_zip(member)
                except zipfile.BadZipFile as exc:
                    raise EmbeddingFormatError(f"not a readable zip archive ({exc})", path=self.path) from exc
            self.total = self._zip_info.file_size if self.compression == "zip" else self.size
        except BaseException:
            self._raw.close()
            raise

    def _open_zip(self, member):
        self._zip = zipfile.ZipFile(self._raw)
        # not ZipInfo.is_dir(): it fails with IndexError on a damaged entry with an empty name
        names = [info for info in self._zip.infolist() if not info.filename.endswith("/")]
        if member is None:
            if len(names) != 1:
                listing = ", ".join(repr(info.filename) for info in names[:10])
                raise ValueError(
                    f"{self.path}: zip archive holds {len(names)} files ({listing}); "
                    f"choose one with member=")
            info = names[0]
        else:
            try:
                info = self._zip.getinfo(member)
            except KeyError:
                listing = ", ".join(repr(info.filename) for info in names[:10])
                raise ValueError(f"{self.path}: no member {member!r} in zip archive (it holds {listing})") from None
        self._zip_info = info
        self.member = info.filename
        if not 0 <= info.header_offset < self.size:
            # a damaged central directory: zipfile would seek there and fail with EINVAL
            raise EmbeddingFormatError(f"zip member {info.filename!r} starts at byte {info.header_offset}, "
                                       f"outside the {self.size}-byte file; the archive is damaged",
                                       path=self.path)
        try:
            self._stream = self._zip.open(info)
        except (NotImplementedError, RuntimeError) as exc:
            # zipfile says "compression method not supported" / "encrypted, password
            # required" without naming the archive
            raise EmbeddingFormatError(f"cannot read zip member {info.filename!r} ({exc}); "
                                       f"unzip it and load the file", path=self.path) from exc

    def plain_fileno(self):
        """The file descriptor when the data is the file itself (uncompressed), else -1.

        The parser then reads blocks with pread() from several threads at once;
        ``readinto`` and ``read`` must not be mixed with that."""
        if self.compression is not None or not stat.S_ISREG(os.fstat(self._raw.fileno()).st_mode):
            return -1
        return self._raw.fileno()

    def readinto(self, buffer):
        """Read up to ``len(buffer)`` bytes into ``buffer``; 0 at the end of the data."""
        try:
            n = self._stream.readinto(buffer)
        except _CORRUPT as exc:
            raise self._corrupt(exc) from exc
        n = n or 0
        self._read_out += n
        return n

    def read(self, n):
        try:
            data = self._stream.read(n)
        except _CORRUPT as exc:
            raise self._corrupt(exc) from exc
        self._read_out += len(data)
        return data

    def _corrupt(self, exc):
        what = f"{self.compression} data" if self.compression else "file"
        return EmbeddingFormatError(f"cannot read {what} ({type(exc).__name__}: {exc}); "
                                    f"the file is damaged or truncated", path=self.path)

    def position(self):
        """How far the stream is, in the unit of ``total``."""
        if self.compression is None or self.compression == "zip":
            return self._read_out
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self):
        for name in ("_stream", "_zip"):
            obj = getattr(self, name, None)
            if obj is not None and obj is not self._raw:
                try:
                    obj.close()
                except Exception:  # closing must not hide the error that got us here
                    pass
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


_CORRUPT = (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, gzip.BadGzipFile, OSError)


def open_source(path, member=None):
    """Open ``path`` as a :class:`Source` (use it as a context manager)."""
    return Source(path, member=member)


def read_head(path, nbytes, member=None):
    """The first ``nbytes`` bytes of the (decompressed) data of ``path``."""
    with open_source(path, member) as src:
        out = io.BytesIO()
        while out.tell() < nbytes:
            data = src.read(nbytes - out.tell())
            if not data:
                break
            out.write(data)
        return out.getvalue(), src.compression, src.member
