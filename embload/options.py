"""``LoadOptions``: the reader's settings, validated when set.

Mirrors the C struct ``el_config`` (embload/_parse.pxd) that every parsing stage
receives; ``LoadOptions`` holds what the user chose, ``el_config`` what the
kernels need (``dim`` from the file, ``threads`` resolved; ``limit`` reaches them as
each piece's row cap, ``el_piece.max_rows``).
"""

from ._checks import check_count, check_dtype, check_errors, check_member, check_progress
from ._threads import resolve_threads
from .formats import FORMATS as _FILE_FORMATS

__all__ = ["LoadOptions"]

FORMATS = ("auto",) + _FILE_FORMATS  # what a file reader accepts: a file format, or decide
DEFAULT_BLOCK_SIZE = 1 << 25  # 32 MiB: big enough to amortise a parallel region
DEFAULT_MIN_PIECE = 1 << 20   # below 1 MiB per thread, threads cost more than they save


class LoadOptions:
    """Settings of :func:`embload.load`; keyword-only, each checked when set.

    Parameters
    ----------
    format : {"auto", "glove", "word2vec", "word2vec-binary"}
        ``"auto"`` decides from the bytes of the file.
    limit : int, optional
        Read only the first ``limit`` vectors.
    dtype : {"float32", "float16", "float64"}
    errors : str
        How to decode words that are not valid UTF-8, as in ``bytes.decode``.
    threads : int, optional
        Threads that parse text; None = all cores, negative = all but that many.
    progress : bool, optional
        Progress bar over bytes read; None = when stderr is a terminal and the file is large.
    member : str, optional
        The member of a zip archive to read.
    block_size : int
        Bytes read per block (the bounded buffer). For tests and tuning.
    min_piece : int
        Smallest share of a block given to one thread. For tests and tuning.
    """

    __slots__ = ("_format", "_limit", "_dtype", "_errors", "_threads", "_progress", "_member",
                 "_block_size", "_min_piece")

    def __init__(self, *, format="auto", limit=None, dtype="float32", errors="strict", threads=None,
                 progress=None, member=None, block_size=DEFAULT_BLOCK_SIZE, min_piece=DEFAULT_MIN_PIECE):
        self.format = format
        self.limit = limit
        self.dtype = dtype
        self.errors = errors
        self.threads = threads
        self.progress = progress
        self.member = member
        self.block_size = block_size
        self.min_piece = min_piece

    @property
    def format(self):
        return self._format

    @format.setter
    def format(self, value):
        if value not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {value!r}")
        self._format = value

    @property
    def limit(self):
        return self._limit

    @limit.setter
    def limit(self, value):
        self._limit = check_count(value, "limit")

    @property
    def dtype(self):
        return self._dtype

    @dtype.setter
    def dtype(self, value):
        self._dtype = check_dtype(value)

    @property
    def errors(self):
        return self._errors

    @errors.setter
    def errors(self, value):
        self._errors = check_errors(value)

    @property
    def threads(self):
        return self._threads

    @threads.setter
    def threads(self, value):
        resolve_threads(value)  # raises TypeError for non-ints
        self._threads = value

    @property
    def resolved_threads(self):
        """``threads`` as a count of threads (None and negatives resolved)."""
        return resolve_threads(self._threads)

    @property
    def progress(self):
        return self._progress

    @progress.setter
    def progress(self, value):
        self._progress = check_progress(value)

    @property
    def member(self):
        return self._member

    @member.setter
    def member(self, value):
        self._member = check_member(value)

    @property
    def block_size(self):
        return self._block_size

    @block_size.setter
    def block_size(self, value):
        self._block_size = check_count(value, "block_size", minimum=1, allow_none=False)

    @property
    def min_piece(self):
        return self._min_piece

    @min_piece.setter
    def min_piece(self, value):
        self._min_piece = check_count(value, "min_piece", minimum=1, allow_none=False)

    def __repr__(self):
        fields = ", ".join(f"{name[1:]}={getattr(self, name)!r}" for name in self.__slots__)
        return f"LoadOptions({fields})"
