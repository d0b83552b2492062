"""Type stub for the compiled fastText / floret model reader (embload/_fasttext.pyx)."""
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

MAGIC: int
VERSIONS: tuple[int, ...]
LOSS_NAMES: dict[int, str]
MODEL_NAMES: dict[int, str]
MODE_NAMES: dict[int, str]
EOS: str
SNIFF_BYTES: int

class _Layout:
    version: Optional[int]
    floret: bool
    args_at: int
    dict_at: int
    args: dict[str, Any]

def detect_layout(head: bytes | memoryview) -> Optional[_Layout]: ...

class ParsedModel:
    path: Optional[str]
    version: Optional[int]
    args: dict[str, Any]
    size: int
    nwords: int
    nlabels: int
    ntokens: int
    prune_size: int
    arena: npt.NDArray[np.uint8]
    offsets: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    types: npt.NDArray[np.int8]
    prune_keys: npt.NDArray[np.int32]
    prune_rows: npt.NDArray[np.int32]
    quantized: bool
    rows: int
    matrix: Optional[npt.NDArray[np.float32]]
    codes: Optional[npt.NDArray[np.uint8]]
    centroids: Optional[npt.NDArray[np.float32]]
    norm_codes: Optional[npt.NDArray[np.uint8]]
    norm_centroids: Optional[npt.NDArray[np.float32]]
    layout: dict[str, int]
    trailing: int
    buffer: Any
    def find(self, word: bytes) -> int: ...
    def vectors(self, arena: Any, offsets: npt.NDArray[np.int64], out: npt.NDArray[np.float32],
                threads: int = ...) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
    def word_vector(self, word: bytes, out: npt.NDArray[np.float32]) -> tuple[int, int]: ...
    def entry_vectors(self, ids: npt.NDArray[np.int64], out: npt.NDArray[np.float32],
                      threads: int = ...) -> npt.NDArray[np.int64]: ...
    def lookup(self, arena: Any, offsets: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]: ...
    def subwords(self, word: bytes) -> list[tuple[int, int, int]]: ...

def parse(buffer: Any, path: Optional[str] = ..., check_output: bool = ...) -> ParsedModel: ...
def fnv1a(data: bytes) -> int: ...
def murmur3_128(data: bytes, seed: int) -> tuple[int, int]: ...
