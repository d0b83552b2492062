"""Type stub for the compiled parsing core (embload/_parse.pyx)."""
from typing import Any, Optional

import numpy as np

DTYPE_CODES: dict[str, int]
MAX_BINARY_WORD: int

def read_text(src: Any, *, dim: int, skip_bytes: int, first_line: int, est_rows: int,
              dtype: str = ..., limit: int = ..., threads: int = ..., block_size: int = ...,
              min_piece: int = ..., bar: Any = ..., path: Optional[str] = ...
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]: ...
def read_binary(src: Any, *, dim: int, skip_bytes: int, count: int, est_rows: int,
                dtype: str = ..., limit: int = ..., threads: int = ..., block_size: int = ...,
                min_piece: int = ..., bar: Any = ..., path: Optional[str] = ...
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]: ...
def compact_rows(matrix: np.ndarray, keep: np.ndarray) -> np.ndarray: ...
