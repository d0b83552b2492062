import numpy as np
import numpy.typing as npt

VALUE_BOUND: int

def row_bound(dim: int, binary: bool) -> int: ...
def format_block(matrix: npt.NDArray[np.floating], arena: bytes | memoryview | npt.NDArray[np.uint8],
                 offsets: npt.NDArray[np.int64], start: int, stop: int, binary: bool,
                 out: npt.NDArray[np.uint8]) -> int: ...
