"""Type stub for the compiled similarity kernels (embload/_similarity.pyx)."""
from typing import Any, Optional

import numpy as np

def row_norms(table: np.ndarray, out: np.ndarray, nthreads: int) -> None: ...
def new_heaps(nqueries: int, parts: int, k: int, dtype: Any) -> tuple[np.ndarray, np.ndarray]: ...
def topk_update(scores: np.ndarray, norms: Optional[np.ndarray], row0: int,
                heap_scores: np.ndarray, heap_rows: np.ndarray, exclude: np.ndarray,
                nthreads: int) -> None: ...
