"""An embedding layer for NumPy: lookup (forward), sparse gradients (backward).

The layer is a table of ``input_dim`` rows; looking up index ``i`` returns row
``i``, which is what multiplying a one-hot vector by the table gives. Training
touches only the rows a batch used: :meth:`Embedding.backward` returns a
:class:`SparseGrad` (unique rows and their summed gradients) that an optimizer
from :mod:`embload.optimizers` applies.

Rows can be frozen one by one, which gives the three ways of using pretrained
vectors: frozen (``trainable=False``), fine-tuned (``trainable=True``) and
``trainable="missing"``: the rows of words found in the vectors file stay as
they are while the rows of words that were missing learn.

The heavy work runs in ``embload._layer`` without the GIL, on ``threads``
threads (None = all cores), and gives the same bits for any thread count.
"""

import operator

import numpy as np

from . import _layer
from ._threads import resolve_threads

__all__ = ["Embedding", "SparseGrad"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_INT64_MAX = np.iinfo(np.int64).max


def _table_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, not {dtype!r}") from exc
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, not {dt}")
    return dt


def _position(flat, shape):
    """'indices[2, 7]' for a flat position in an array of ``shape``."""
    if len(shape) == 0:
        return "indices (a scalar)"
    where = np.unravel_index(int(flat), shape)
    return "indices[" + ", ".join(str(int(i)) for i in where) + "]"


def _index_error(value, flat, shape, nrows):
    where = _position(flat, shape)
    valid = f"0..{nrows - 1}" if nrows > 0 else "none: the table is empty"
    if value < 0:
        return IndexError(
            f"{where} = {value} is negative; embedding indices must be in {valid} "
            f"(negative indices do not count from the end); table has {nrows} rows"
        )
    hint = ""
    if value == nrows:
        hint = ("; token ids usually start at 1 with 0 for padding, so the table needs "
                "input_dim = largest id + 1")
    return IndexError(
        f"{where} = {value} is out of range for an embedding table of {nrows} rows "
        f"(valid indices: {valid}){hint}"
    )


def _as_indices(indices, what="indices"):
    """(flat contiguous int32/int64 array, original shape) or a clear TypeError."""
    arr = indices
    if not isinstance(arr, np.ndarray):
        try:
            arr = np.asarray(indices)
        except ValueError as exc:
            raise TypeError(
                f"{what} must be a rectangular array of integer token ids; got a ragged "
                "sequence: pad the sequences to one length first (embload.pad_sequences)"
            ) from exc
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)  # np.asarray([]) is float64
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(
            f"{what} must be integer token ids, got a boolean array; "
            "a mask is not a list of indices (use indices[mask] or np.flatnonzero(mask))"
        )
    if kind in "fc":
        hint = ""
        if kind == "f" and arr.size:
            finite = np.isfinite(arr)
            if finite.all() and np.array_equal(arr, np.floor(arr)):
                hint = (": its values are whole numbers, so convert it with "
                        "indices.astype(np.int64) (arrays of padded ids often become float "
                        "when built with np.zeros or pandas)")
            else:
                hint = (": it holds values that are not whole numbers; an embedding layer "
                        "takes token ids, not features")
        raise TypeError(
            f"{what} must be integer token ids (int32 or int64), got a {arr.dtype} "
            f"array of shape {arr.shape}{hint}"
        )
    if kind not in "iu":
        raise TypeError(
            f"{what} must be integer token ids (int32 or int64), got an array of "
            f"{arr.dtype}; turn words into ids with a tokenizer first"
        )
    shape = arr.shape
    dt = arr.dtype
    if dt == np.int32 or dt == np.int64:
        if not dt.isnative:
            arr = arr.astype(dt.newbyteorder("="))
    elif dt.itemsize < 4 or (dt.kind == "i" and dt.itemsize == 4):
        arr = arr.astype(np.int32)
    elif dt.kind == "u" and dt.itemsize == 8:
        if arr.size and arr.max() > _INT64_MAX:
            flat = int(np.argmax(arr.reshape(-1) > _INT64_MAX))
            raise IndexError(f"{_position(flat, shape)} = {int(arr.reshape(-1)[flat])} "
                             "is out of range for any embedding table")
        arr = arr.astype(np.int64)
    else:
        arr = arr.astype(np.int64)
    return np.ascontiguousarray(arr).reshape(-1), shape


class SparseGrad:
    """Gradient of an embedding table restricted to the rows a batch touched.

    Attributes
    ----------
    rows : ndarray of int64, shape (k,)
        Unique row numbers, ascending.
    values : ndarray, shape (k, dim)
        ``values[j]`` is the summed gradient of row ``rows[j]``.
    num_rows : int or None
        Rows of the table the gradient belongs to (for :meth:`to_dense`).

    Building one from rows that repeat sums the repeated rows' values (like
    ``torch.Tensor.coalesce``), so every optimizer sees each row once.
    """

    __slots__ = ("rows", "values", "num_rows")

    def __init__(self, rows, values, num_rows=None, *, _coalesced=False):
        if _coalesced:
            self.rows, self.values, self.num_rows = rows, values, num_rows
            return
        flat, _ = _as_indices(rows, "rows")
        values = np.asarray(values)
        if values.dtype.kind not in "fiu":  # as grad_output: complex would lose its imaginary part
            raise TypeError(f"values must be a float array, got {values.dtype}")
        if values.dtype not in _FLOAT_DTYPES:
            values = values.astype(np.float64 if values.dtype.kind == "f" and
                                   values.dtype.itemsize > 8 else np.float32)
        if values.ndim != 2 or values.shape[0] != flat.shape[0]:
            raise ValueError(
                f"values must have shape (len(rows), dim) = ({flat.shape[0]}, dim), "
                f"got {values.shape}")
        limit = int(flat.max()) + 1 if flat.size else 0
        if num_rows is not None:
            num_rows = operator.index(num_rows)
            if num_rows < 0:
                raise ValueError(f"num_rows must be >= 0, got {num_rows}")
            limit = num_rows
        bad = _layer.check_indices(flat, limit)
        if bad >= 0:
            raise _index_error(int(flat[bad]), bad, flat.shape, limit)
        values = np.ascontiguousarray(values)
        self.rows, self.values = _layer.coalesce(flat, values, limit, None, 1)
        self.num_rows = num_rows

    @property
    def dim(self):
        return self.values.shape[1]

    @property
    def dtype(self):
        return self.values.dtype

    def __len__(self):
        return self.rows.shape[0]

    def to_dense(self, num_rows=None):
        """The full ``(num_rows, dim)`` gradient, zero in rows not touched."""
        n = self.num_rows if num_rows is None else operator.index(num_rows)
        if n is None:
            raise ValueError("num_rows is unknown: pass to_dense(num_rows)")
        dense = np.zeros((n, self.dim), dtype=self.values.dtype)
        dense[self.rows] = self.values
        return dense

    def __repr__(self):
        return (f"SparseGrad({len(self)} rows of {self.num_rows}, dim={self.dim}, "
                f"dtype={self.dtype})")


def _initial_table(initializer, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if callable(initializer):
        table = np.asarray(initializer(shape))
        if table.shape != shape:
            raise ValueError(f"embeddings_initializer returned shape {table.shape}, "
                             f"expected {shape}")
        return np.array(table, dtype=dtype, order="C")
    name = str(initializer).lower()
    if name in ("uniform", "random_uniform"):
        table = rng.random(shape, dtype=dtype)  # U[0, 1), then to U[-0.05, 0.05)
        table *= 0.1
        table -= 0.05
        return table
    if name in ("normal", "random_normal"):
        return rng.standard_normal(shape, dtype=dtype) * dtype.type(0.05)
    if name == "zeros":
        return np.zeros(shape, dtype=dtype)
    raise ValueError(
        f"embeddings_initializer must be 'uniform', 'normal', 'zeros' or a callable "
        f"taking the shape, not {initializer!r}")


def _row_mask(rows, n, what):
    """A boolean mask of length n from a mask or an iterable of row numbers."""
    arr = np.asarray(rows)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"{what} as a boolean mask must have shape ({n},), "
                             f"got {arr.shape}")
        return arr.copy()
    flat, shape = _as_indices(rows, what)  # not arr: np.asarray([]) is float64
    bad = _layer.check_indices(flat, n)
    if bad >= 0:
        raise _index_error(int(flat[bad]), bad, shape, n)
    mask = np.zeros(n, dtype=bool)
    mask[flat] = True
    return mask


class Embedding:
    """A lookup table trained with sparse updates (Keras' ``Embedding`` for NumPy).

    Parameters
    ----------
    input_dim : int
        Rows of the table: the largest token id + 1.
    output_dim : int
        Length of each vector.
    embeddings_initializer : {'uniform', 'normal', 'zeros'} or callable
        'uniform' is U(-0.05, 0.05) and 'normal' N(0, 0.05), as in Keras; a callable
        gets the shape and returns the table.
    weights : ndarray or [ndarray], optional
        Initial table of shape (input_dim, output_dim) (copied).
    trainable : bool
        False freezes every row.
    frozen_rows : boolean mask or iterable of int, optional
        Rows that never change, whatever the optimizer.
    mask_zero : bool
        Index 0 is padding: :meth:`compute_mask` masks it and row 0 is never trained.
    max_norm : float, optional
        Rows looked up whose ``norm_type``-norm exceeds ``max_norm`` are scaled down
        to it *in the table*, before the lookup (PyTorch's semantics): the forward
        pass changes the weights, frozen rows included.
    norm_type : float
        The p of the p-norm for ``max_norm`` (default 2).
    dtype : {'float32', 'float64'}
    seed : int, optional
        Seed of the initializer.
    threads : int, optional
        Threads for the kernels (None: all cores; -1: all but one).

    Notes
    -----
    ``layer.weights`` is the live table (a C-contiguous ndarray); optimizers change
    it in place.
    """

    def __init__(self, input_dim, output_dim, *, embeddings_initializer="uniform",
                 weights=None, trainable=True, frozen_rows=None, mask_zero=False,
                 max_norm=None, norm_type=2.0, dtype="float32", seed=None, threads=None):
        input_dim = operator.index(input_dim)
        output_dim = operator.index(output_dim)
        if input_dim < 0 or output_dim < 0:
            raise ValueError(f"input_dim and output_dim must be >= 0, got "
                             f"{input_dim} and {output_dim}")
        dt = _table_dtype(dtype)
        shape = (input_dim, output_dim)
        if weights is not None:
            if isinstance(weights, (list, tuple)) and len(weights) == 1:
                weights = weights[0]
            weights = np.asarray(weights)
            if weights.shape != shape:
                raise ValueError(f"weights must have shape {shape} (input_dim, output_dim), "
                                 f"got {weights.shape}")
            table = np.array(weights, dtype=dt, order="C", copy=True)
        else:
            table = _initial_table(embeddings_initializer, shape, dt, seed)
        if trainable not in (True, False):
            raise ValueError(f"trainable must be True or False, not {trainable!r} "
                             "(trainable='missing' is for Embedding.from_pretrained)")
        mask = np.full(input_dim, bool(trainable))
        if frozen_rows is not None:
            mask &= ~_row_mask(frozen_rows, input_dim, "frozen_rows")
        self._setup(table, mask, mask_zero=mask_zero, max_norm=max_norm,
                    norm_type=norm_type, threads=threads)

    def _setup(self, table, trainable_mask, *, mask_zero, max_norm, norm_type, threads):
        self._table = table
        self._mask_zero = bool(mask_zero)  # the trainable_mask setter below applies it
        if max_norm is not None:
            max_norm = float(max_norm)
            if not max_norm > 0:
                raise ValueError(f"max_norm must be > 0, got {max_norm}")
        norm_type = float(norm_type)
        if not norm_type > 0:
            raise ValueError(f"norm_type must be > 0, got {norm_type}")
        self.max_norm = max_norm
        self.norm_type = norm_type
        resolve_threads(threads)  # validate now, resolve at each call
        self.threads = threads
        self.trainable_mask = trainable_mask

    @classmethod
    def from_pretrained(cls, matrix_or_aligned, trainable=False, *, mask_zero=None,
                        max_norm=None, norm_type=2.0, dtype=None, copy=True, threads=None):
        """A layer whose table is a pretrained matrix.

        Parameters
        ----------
        matrix_or_aligned : ndarray or AlignedEmbedding
            A (num_words, dim) matrix, or an aligned embedding (anything with
            ``.matrix`` and ``.found``, a boolean per row telling whether the word
            was in the vectors file).
        trainable : False, True or 'missing'
            False freezes the table, True fine-tunes every row, 'missing' trains
            only the rows that were not found in the file (never the padding row).
        mask_zero : bool, optional
            The padding row is masked and never trained: row 0, or an aligned
            embedding's ``padding_idx``. Default: True for an aligned embedding with a
            padding row, False for a plain matrix.
        copy : bool
            Copy the matrix (default). With copy=False a C-contiguous matrix of the
            right dtype is used as the table itself, and training changes it.
        """
        found = None
        padding_row = 0      # None: the aligned embedding has no padding row
        source = matrix_or_aligned
        if hasattr(source, "matrix") and hasattr(source, "found"):
            matrix = source.matrix
            found = np.asarray(source.found, dtype=bool)
            padding_row = getattr(source, "padding_idx", 0)
            if mask_zero is None:
                mask_zero = padding_row is not None
        elif hasattr(source, "vectors") and hasattr(source, "words"):
            raise TypeError(
                "from_pretrained takes a matrix whose row i is the vector of token id i; "
                "got Vectors in file order: align them to your tokenizer first "
                "(vectors.align(word_index)) or pass vectors.vectors explicitly")
        else:
            matrix = source
        if mask_zero is None:
            mask_zero = False
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"the pretrained matrix must be 2-D (num_words, dim), "
                             f"got shape {matrix.shape}")
        if dtype is None:
            dtype = matrix.dtype if matrix.dtype in _FLOAT_DTYPES else np.float32
        dt = _table_dtype(dtype)
        if copy:
            table = np.array(matrix, dtype=dt, order="C", copy=True)
        else:
            table = np.ascontiguousarray(matrix, dtype=dt)
        n = table.shape[0]
        if trainable == "missing":
            if found is None:
                raise TypeError(
                    "trainable='missing' needs an AlignedEmbedding (with .found telling "
                    "which rows came from the file), not a bare matrix")
            if found.shape != (n,):
                raise ValueError(f".found must have shape ({n},), got {found.shape}")
            mask = ~found
            if n and padding_row is not None:
                mask[padding_row] = False
        elif trainable in (True, False):  # as __init__: NumPy bools count too
            mask = np.full(n, bool(trainable))
        else:
            raise ValueError(f"trainable must be False, True or 'missing', not {trainable!r}")
        layer = cls.__new__(cls)
        layer._padding_row = 0 if padding_row is None else int(padding_row)
        layer._setup(table, mask, mask_zero=mask_zero, max_norm=max_norm,
                     norm_type=norm_type, threads=threads)
        return layer

    # ---------------------------------------------------------------- state

    @property
    def weights(self):
        """The live table: a C-contiguous (input_dim, output_dim) array."""
        return self._table

    @weights.setter
    def weights(self, table):
        # The kernels index this array without bounds checks: only an array of
        # the same shape and a float dtype, in C order, may replace it.
        if not isinstance(table, np.ndarray):
            raise TypeError(f"weights must be a NumPy array, not {type(table).__name__}")
        if table.shape != self._table.shape or table.dtype not in _FLOAT_DTYPES \
                or not table.flags.c_contiguous:
            raise ValueError(
                f"weights must be a C-contiguous float32/float64 array of shape "
                f"{self._table.shape}, got {table.dtype} {table.shape}"
                f"{'' if table.flags.c_contiguous else ' (not C-contiguous)'}; "
                "use set_weights() to copy values in")
        self._table = table

    @property
    def input_dim(self):
        return self.weights.shape[0]

    @property
    def output_dim(self):
        return self.weights.shape[1]

    @property
    def dtype(self):
        return self.weights.dtype

    @property
    def embeddings(self):
        """The live table (Keras' name for it)."""
        return self.weights

    @property
    def trainable_mask(self):
        """Boolean per row: may an optimizer change it? (a copy; assign to change)."""
        if self._keep is None:
            return np.ones(self.input_dim, dtype=bool)
        return self._keep.astype(bool)

    @trainable_mask.setter
    def trainable_mask(self, mask):
        mask = np.array(mask, dtype=bool)
        n = self.weights.shape[0]
        if mask.shape != (n,):
            raise ValueError(f"trainable_mask must have shape ({n},), got {mask.shape}")
        self._rows_asked = mask
        self._apply_row_mask()

    @property
    def mask_zero(self):
        """Index 0 is padding: masked by :meth:`compute_mask`, and row 0 never trains
        (setting it later freezes row 0 too; unsetting gives row 0 back its own setting)."""
        return self._mask_zero

    @mask_zero.setter
    def mask_zero(self, value):
        self._mask_zero = bool(value)
        self._apply_row_mask()

    @property
    def padding_idx(self):
        """The row ``mask_zero`` masks and freezes: 0, or the ``padding_idx`` of the aligned
        embedding the layer was made from."""
        return getattr(self, "_padding_row", 0)

    def _apply_row_mask(self):
        mask = self._rows_asked.copy()
        if self._mask_zero and mask.shape[0]:
            mask[self.padding_idx] = False  # the padding row never learns
        # _keep is None when every row trains: the kernels then skip the mask.
        self._keep = None if mask.all() else mask.view(np.uint8)
        self._any_trainable = bool(mask.any())

    @property
    def trainable(self):
        """True when at least one row is trainable; set to True/False for all rows."""
        return self._any_trainable

    @trainable.setter
    def trainable(self, value):
        self.trainable_mask = np.full(self.input_dim, bool(value))

    def get_weights(self):
        """[a copy of the table], as Keras returns it."""
        return [self.weights.copy()]

    def set_weights(self, weights):
        """Copy ``[table]`` (or a bare table) into the layer's table, in place."""
        if isinstance(weights, (list, tuple)):
            if len(weights) != 1:
                raise ValueError(f"an Embedding layer has 1 weight array, got {len(weights)}")
            weights = weights[0]
        weights = np.asarray(weights)
        if weights.shape != self.weights.shape:
            raise ValueError(f"weights must have shape {self.weights.shape}, "
                             f"got {weights.shape}")
        np.copyto(self.weights, weights, casting="same_kind")

    def __repr__(self):
        return (f"Embedding({self.input_dim}, {self.output_dim}, dtype={self.dtype}, "
                f"trainable_rows={int(self.trainable_mask.sum())}, "
                f"mask_zero={self.mask_zero}, max_norm={self.max_norm})")

    # ---------------------------------------------------------------- compute

    # The kernels check the batch's indices (once, in C) and raise
    # _layer.BadIndex; _bad_index words it for the user. Only a path that calls
    # no kernel checks them here, with _check_range.

    def _bad_index(self, position, flat, shape):
        return _index_error(int(flat[position]), position, shape, self.weights.shape[0])

    def _check_range(self, flat, shape):
        bad = _layer.check_indices(flat, self.weights.shape[0])
        if bad >= 0:
            raise self._bad_index(bad, flat, shape)

    def __call__(self, indices, out=None):
        """Look up ``indices`` (integers, any shape) -> array of shape (*shape, output_dim).

        ``out``, when given, must be a C-contiguous array of that shape and the
        table's dtype; it is filled and returned.
        """
        flat, shape = _as_indices(indices)
        dim = self.weights.shape[1]
        full = tuple(shape) + (dim,)
        if out is None:
            out = np.empty(full, dtype=self.weights.dtype)
        else:
            if not isinstance(out, np.ndarray):
                raise TypeError(f"out must be a NumPy array, not {type(out).__name__}")
            if out.shape != full or out.dtype != self.weights.dtype:
                raise ValueError(f"out must have shape {full} and dtype {self.weights.dtype}, "
                                 f"got {out.shape} and {out.dtype}")
            if not out.flags.c_contiguous or not out.flags.writeable:
                raise ValueError("out must be C-contiguous and writeable")
            if np.may_share_memory(out, self.weights):
                raise ValueError("out must not overlap the table")
        threads = resolve_threads(self.threads)
        try:
            if self.max_norm is not None and flat.size:
                rows = _layer.unique_rows(flat, self.weights.shape[0])
                if not self.weights.flags.writeable:
                    raise ValueError("max_norm rescales rows in the table, which is "
                                     "read-only (a memory-mapped or shared matrix?): build "
                                     "the layer with copy=True or without max_norm")
                _layer.renorm(self.weights, rows, self.max_norm, self.norm_type, threads)
            _layer.gather(self.weights, flat, out.reshape(flat.shape[0], dim), threads)
        except _layer.BadIndex as err:
            raise self._bad_index(err.position, flat, shape) from None
        return out

    def compute_mask(self, indices, mask=None):
        """Keras semantics: None without ``mask_zero``, else ``indices != padding_idx``
        (0 unless the layer was made from an aligned embedding with another padding row)."""
        if not self.mask_zero:
            return None
        flat, shape = _as_indices(indices)
        return (flat != self.padding_idx).reshape(shape)

    def _checked_grad(self, indices, grad_output):
        """(flat indices, their shape, grad_output as a C-contiguous (count, dim)
        table-dtype array); the indices' range is left to the kernel."""
        flat, shape = _as_indices(indices)
        dim = self.weights.shape[1]
        full = tuple(shape) + (dim,)
        grad = np.asarray(grad_output)
        if grad.shape != full:
            raise ValueError(f"grad_output must have shape {full} (indices.shape + "
                             f"(output_dim,)), got {grad.shape}")
        if grad.dtype.kind not in "fiu":
            raise TypeError(f"grad_output must be a float array, got {grad.dtype}")
        grad = np.ascontiguousarray(grad, dtype=self.weights.dtype)
        return flat, shape, grad.reshape(flat.shape[0], dim)

    def backward(self, indices, grad_output):
        """Gradient of the table for a lookup of ``indices`` given d(loss)/d(output).

        ``grad_output`` has shape (*indices.shape, output_dim). Returns the unique
        trainable rows (ascending) and, for each, the sum of its gradient rows in
        batch order: exact however often a row repeats, identical bits for any
        thread count. Frozen rows and the padding row are left out.
        """
        flat, shape, grad = self._checked_grad(indices, grad_output)
        dim = self.weights.shape[1]
        n = self.weights.shape[0]
        if not self._any_trainable:
            self._check_range(flat, shape)
            return SparseGrad(np.empty(0, np.int64), np.empty((0, dim), self.weights.dtype),
                              n, _coalesced=True)
        try:
            rows, values = _layer.coalesce(flat, grad, n, self._keep,
                                           resolve_threads(self.threads))
        except _layer.BadIndex as err:
            raise self._bad_index(err.position, flat, shape) from None
        return SparseGrad(rows, values, n, _coalesced=True)

    # ---------------------------------------------------------------- for optimizers
    # What an optimizer (embload.optimizers, or one of your own) needs from the
    # layer besides ``weights`` and ``threads``: a gradient checked against this
    # table with the frozen rows taken out, and the fused plain-SGD step. The
    # layer keeps its row mask and index checks to itself.

    def _require_writeable(self):
        if not self.weights.flags.writeable:
            raise ValueError("the layer's table is read-only (a memory-mapped or shared "
                             "matrix?): build the layer with copy=True to train it")

    def trainable_gradient(self, grad):
        """The part of ``grad`` that an optimizer may apply to this layer's table.

        ``grad`` is a :class:`SparseGrad` from :meth:`backward`, or one built or
        edited by hand, and is checked again before anything is written. Returns
        a SparseGrad whose ``rows`` are unique, ascending (int64) and trainable,
        and whose ``values`` are a C-contiguous ``(len(rows), output_dim)`` array
        of the table's dtype. Rows that repeat (after a hand edit) are summed, as
        ``SparseGrad(rows, values)`` sums them.

        Raises TypeError (not a SparseGrad, rows that are not integers),
        ValueError (a shape that does not fit the table, a read-only table) or
        IndexError (a row outside the table, named).
        """
        if not isinstance(grad, SparseGrad):
            raise TypeError(f"grad must be a SparseGrad (from layer.backward), "
                            f"not {type(grad).__name__}")
        self._require_writeable()
        n, dim = self.weights.shape
        # rows and values may have been edited by hand: check them as the layer
        # checks indices (a float or 2-D rows array is refused, never truncated).
        rows, values = np.asarray(grad.rows), np.asarray(grad.values)
        if values.ndim != 2 or values.dtype.kind not in "fiu":
            raise ValueError(f"gradient values must be a 2-D float array (rows, {dim}), "
                             f"got {values.dtype} of shape {values.shape}")
        if values.shape[1] != dim:
            raise ValueError(f"gradient rows have length {values.shape[1]}, the table "
                             f"rows {dim}")
        if rows.ndim != 1:
            raise ValueError(f"gradient rows must be a 1-D array of row numbers, got "
                             f"shape {rows.shape}")
        rows = _as_indices(rows, "gradient rows")[0].astype(np.int64, copy=False)
        bad = _layer.check_indices(rows, n)
        if bad >= 0:
            raise IndexError(f"gradient row {int(rows[bad])} is out of range for a table of "
                             f"{n} rows")
        if values.shape[0] != rows.shape[0]:
            raise ValueError(f"the gradient has {rows.shape[0]} rows but {values.shape[0]} "
                             "value rows")
        values = np.ascontiguousarray(values, dtype=self.weights.dtype)
        if len(rows) > 1 and not (rows[1:] > rows[:-1]).all():
            # Not coalesced (edited by hand): the optimizer kernels give each
            # thread whole rows and need every row once.
            rows, values = _layer.coalesce(rows, values, n, self._keep, 1)
        elif self._keep is not None and len(rows):
            sel = self._keep[rows].view(bool)
            if not sel.all():
                rows, values = rows[sel], values[sel]
        return SparseGrad(rows, values, n, _coalesced=True)

    def sgd_step(self, indices, grad_output, lr):
        """Plain SGD straight from a lookup's output gradient, without a SparseGrad.

        Each trainable row looked up moves by ``-lr * grad_output[i]`` for each of
        its occurrences ``i`` in ``indices``, in batch order (one pass over the
        gradient; the same bits for any thread count). ``indices`` and
        ``grad_output`` are checked as :meth:`backward` checks them.
        """
        self._require_writeable()
        flat, shape, grad = self._checked_grad(indices, grad_output)
        if not self._any_trainable:
            self._check_range(flat, shape)
            return
        try:
            _layer.sgd_fused(self.weights, flat, grad, self._keep, float(lr),
                             resolve_threads(self.threads))
        except _layer.BadIndex as err:
            raise self._bad_index(err.position, flat, shape) from None
