"""embload.layer / embload._layer: lookup and sparse gradients against dense NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from embload import SGD, Embedding, SparseGrad
from embload import _layer

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}




def one_hot(flat, n):
    m = np.zeros((len(flat), n))
    m[np.arange(len(flat)), flat] = 1.0
    return m


def dense_grad(indices, grad, n, trainable):
    """one_hot.T @ grad in float64, zero on frozen rows."""
    flat = np.asarray(indices).reshape(-1)
    g = one_hot(flat, n).T @ np.asarray(grad, np.float64).reshape(len(flat), np.shape(grad)[-1])
    g[~trainable] = 0
    return g


def zipf_indices(rng, shape, n, a=1.2):
    return (rng.zipf(a, size=shape) - 1) % n


# ---------------------------------------------------------------- forward

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 5), (2, 3, 4), (4, 0)])
def test_forward_equals_one_hot_product_and_fancy_indexing(dtype, shape):
    rng = np.random.default_rng(1)
    layer = Embedding(50, 6, dtype=dtype, seed=0)
    idx = rng.integers(0, 50, size=shape)
    out = layer(idx)
    assert out.shape == shape + (6,) and out.dtype == dtype
    np.testing.assert_array_equal(out, layer.weights[idx])
    flat = idx.reshape(-1)
    np.testing.assert_allclose(out.reshape(-1, 6), one_hot(flat, 50) @ layer.weights, **TOL[dtype])


@pytest.mark.parametrize("itype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                   np.uint32, np.uint64, ">i4", ">i8", "<i4"])
def test_forward_accepts_every_integer_dtype(itype):
    layer = Embedding(100, 3, seed=0)
    idx = np.array([[0, 99, 5], [7, 7, 1]]).astype(itype)
    np.testing.assert_array_equal(layer(idx), layer.weights[idx.astype(np.int64)])


def test_forward_accepts_lists_strided_arrays_and_empty_lists():
    layer = Embedding(20, 4, seed=0)
    np.testing.assert_array_equal(layer([[1, 2], [3, 4]]), layer.weights[[[1, 2], [3, 4]]])
    big = np.arange(40).reshape(4, 10) % 20
    view = big[:, ::3]
    np.testing.assert_array_equal(layer(view), layer.weights[view])
    assert layer([]).shape == (0, 4)
    assert layer(np.int64(3)).shape == (4,)


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_threads_give_identical_results(dtype, threaded):
    rng = np.random.default_rng(2)
    idx = zipf_indices(rng, (64, 50), 3000)
    one = Embedding(3000, 40, dtype=dtype, seed=3, threads=1)
    two = Embedding(3000, 40, dtype=dtype, seed=3, threads=2)
    np.testing.assert_array_equal(one(idx), two(idx))


def test_forward_out_parameter():
    layer = Embedding(30, 5, seed=0)
    idx = np.array([[1, 2, 3], [4, 5, 29]])
    out = np.full((2, 3, 5), np.nan, dtype=np.float32)
    assert layer(idx, out=out) is out
    np.testing.assert_array_equal(out, layer.weights[idx])
    with pytest.raises(ValueError, match=r"out must have shape \(2, 3, 5\) and dtype float32"):
        layer(idx, out=np.empty((2, 3, 5), np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        layer(idx, out=np.empty((2, 3, 10), np.float32)[:, :, ::2])
    with pytest.raises(ValueError, match="overlap"):
        layer(np.array([1]), out=layer.weights[2:3])


def test_float_indices_error_says_what_was_expected():
    layer = Embedding(10, 2)
    with pytest.raises(TypeError) as err:
        layer(np.array([[1.0, 2.0]]))
    assert str(err.value) == (
        "indices must be integer token ids (int32 or int64), got a float64 array of shape "
        "(1, 2): its values are whole numbers, so convert it with indices.astype(np.int64) "
        "(arrays of padded ids often become float when built with np.zeros or pandas)")
    with pytest.raises(TypeError, match="not whole numbers; an embedding layer takes token ids"):
        layer(np.array([0.25, 1.0], dtype=np.float32))
    with pytest.raises(TypeError, match="got a boolean array"):
        layer(np.array([True, False]))
    with pytest.raises(TypeError, match="turn words into ids with a tokenizer"):
        layer(["the", "cat"])
    with pytest.raises(TypeError, match="ragged sequence"):
        layer([[1, 2], [3]])


def test_index_errors_name_value_position_and_table_size():
    layer = Embedding(10, 2)
    idx = np.zeros((3, 4), dtype=np.int64)
    idx[2, 1] = 12
    with pytest.raises(IndexError) as err:
        layer(idx)
    assert str(err.value) == ("indices[2, 1] = 12 is out of range for an embedding table "
                              "of 10 rows (valid indices: 0..9)")
    idx[2, 1] = 10
    with pytest.raises(IndexError, match=r"indices\[2, 1\] = 10 .*input_dim = largest id \+ 1"):
        layer(idx)
    idx[2, 1] = 0
    idx[1, 3] = -1
    with pytest.raises(IndexError) as err:
        layer(idx.astype(np.int32))
    assert str(err.value) == (
        "indices[1, 3] = -1 is negative; embedding indices must be in 0..9 (negative "
        "indices do not count from the end); table has 10 rows")
    with pytest.raises(IndexError, match=r"indices\[0\] = 18446744073709551615"):
        layer(np.array([2**64 - 1], dtype=np.uint64))
    with pytest.raises(IndexError, match=r"indices\[1\] = 10 "):
        layer.backward([3, 10], np.ones((2, 2)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 12), min_size=0, max_size=30))
def test_forward_any_index_list_matches_numpy_or_raises(values):
    layer = Embedding(10, 3, seed=0)
    idx = np.array(values, dtype=np.int64)
    if all(0 <= v < 10 for v in values):
        np.testing.assert_array_equal(layer(idx), layer.weights[idx])
    else:
        first = next(i for i, v in enumerate(values) if not 0 <= v < 10)
        with pytest.raises(IndexError, match=rf"^indices\[{first}\] = {values[first]} "):
            layer(idx)


# ---------------------------------------------------------------- mask

def test_compute_mask_keras_semantics():
    idx = np.array([[3, 1, 0, 0], [2, 0, 5, 0]])
    assert Embedding(10, 2).compute_mask(idx) is None
    mask = Embedding(10, 2, mask_zero=True).compute_mask(idx)
    assert mask.dtype == bool and mask.shape == idx.shape
    np.testing.assert_array_equal(mask, idx != 0)


# ---------------------------------------------------------------- backward

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_backward_equals_dense_gradient_on_trainable_rows(dtype, threads, threaded):
    rng = np.random.default_rng(4)
    n = 300
    frozen = rng.random(n) < 0.3
    layer = Embedding(n, 20, dtype=dtype, frozen_rows=frozen, mask_zero=True, threads=threads)
    idx = zipf_indices(rng, (16, 25), n)
    grad = rng.standard_normal((16, 25, 20))
    g = layer.backward(idx, grad)
    trainable = ~frozen
    trainable[0] = False
    expected_rows = np.unique(idx[trainable[idx]])
    np.testing.assert_array_equal(g.rows, expected_rows)
    assert g.values.dtype == dtype and g.rows.dtype == np.int64
    dense = dense_grad(idx, grad.astype(dtype), n, trainable)
    np.testing.assert_allclose(g.to_dense(), dense, **TOL[dtype])
    assert 0 not in g.rows


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_exact_under_heavy_repetition(dtype, threaded):
    # the classic scatter bug: out[idx] += grad keeps only one of the repeats
    rng = np.random.default_rng(5)
    idx = np.full(20000, 7)
    idx[::9] = 3
    grad = rng.standard_normal((20000, 32)).astype(dtype)
    g = Embedding(10, 32, dtype=dtype, threads=2).backward(idx, grad)
    np.testing.assert_array_equal(g.rows, [3, 7])
    ref = np.zeros((10, 32))
    np.add.at(ref, idx, grad.astype(np.float64))
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(g.values, ref[[3, 7]], **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [1, 17, 64, 300])
def test_backward_bit_identical_for_any_thread_count(dtype, dim, threaded):
    rng = np.random.default_rng(6)
    idx = zipf_indices(rng, (128, 40), 5000)
    idx[:, 30:] = 1  # one row with a large share of the batch (split by columns)
    grad = rng.standard_normal(idx.shape + (dim,)).astype(dtype)
    results = []
    for threads in (1, 2, 3, 4):
        g = Embedding(5000, dim, dtype=dtype, threads=threads).backward(idx, grad)
        results.append(g)
    for g in results[1:]:
        np.testing.assert_array_equal(g.rows, results[0].rows)
        assert g.values.tobytes() == results[0].values.tobytes()
    # and it is the sum in batch order: same bits as a sequential float loop
    flat = idx.reshape(-1)
    positions = np.flatnonzero(flat == 1)
    acc = grad.reshape(-1, dim)[positions[0]].copy()
    for p in positions[1:]:
        acc += grad.reshape(-1, dim)[p]
    row = np.searchsorted(results[0].rows, 1)
    assert results[0].values[row].tobytes() == acc.tobytes()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), dim=st.integers(0, 9), batch=st.integers(0, 60),
       data=st.data())
def test_backward_random_batches_match_dense(n, dim, batch, data):
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=batch, max_size=batch)),
                   dtype=np.int64)
    frozen = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    threads = data.draw(st.integers(1, 3))
    rng = np.random.default_rng(batch)
    grad = rng.standard_normal((batch, dim))
    layer = Embedding(n, dim, dtype=np.float64, frozen_rows=frozen, threads=threads)
    g = layer.backward(idx, grad)
    np.testing.assert_array_equal(g.rows, np.unique(idx[~frozen[idx]]))
    np.testing.assert_allclose(g.to_dense(), dense_grad(idx, grad, n, ~frozen), rtol=1e-12,
                               atol=1e-12)


def test_backward_frozen_layer_and_shape_checks():
    layer = Embedding(10, 3, trainable=False)
    g = layer.backward([1, 2], np.ones((2, 3)))
    assert len(g) == 0 and g.values.shape == (0, 3)
    layer = Embedding(10, 3)
    with pytest.raises(ValueError, match=r"grad_output must have shape \(2, 3\)"):
        layer.backward([1, 2], np.ones((2, 4)))
    with pytest.raises(TypeError, match="float array"):
        layer.backward([1, 2], np.array([["a"] * 3] * 2))
    g = layer.backward(np.array([], dtype=np.int64), np.ones((0, 3)))
    assert len(g) == 0


def test_radix_sort_handles_huge_row_numbers():
    # more digits than the 400k-row case: rows near 2**40 need four passes
    rows = np.array([2**40 - 1, 5, 2**33, 5, 2**40 - 1, 0])
    g = SparseGrad(rows, np.arange(12.0).reshape(6, 2), num_rows=2**40)
    np.testing.assert_array_equal(g.rows, [0, 5, 2**33, 2**40 - 1])
    np.testing.assert_array_equal(g.values, [[10, 11], [2 + 6, 3 + 7], [4, 5], [0 + 8, 1 + 9]])


def test_sparse_grad_coalesces_and_validates():
    g = SparseGrad([4, 1, 4], np.array([[1.0], [2.0], [3.0]], np.float32), num_rows=6)
    np.testing.assert_array_equal(g.rows, [1, 4])
    np.testing.assert_array_equal(g.to_dense(), [[0], [2], [0], [0], [4], [0]])
    with pytest.raises(IndexError, match="= 6 is out of range"):
        SparseGrad([6], [[1.0]], num_rows=6)
    with pytest.raises(IndexError, match="negative"):
        SparseGrad([-2], [[1.0]])
    with pytest.raises(ValueError, match="shape"):
        SparseGrad([1, 2], [[1.0]])


# ---------------------------------------------------------------- max_norm

def reference_renorm(table, idx, max_norm, p):
    table = table.astype(np.float64).copy()
    for r in np.unique(idx):
        norm = np.linalg.norm(table[r], ord=p)
        if norm > max_norm:
            table[r] *= max_norm / (norm + 1e-7)
    return table


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, np.inf])
def test_max_norm_renormalises_looked_up_rows_in_the_table(dtype, p):
    rng = np.random.default_rng(7)
    table = rng.standard_normal((40, 8)) * rng.uniform(0.1, 2, size=(40, 1))
    layer = Embedding(40, 8, weights=table, dtype=dtype, max_norm=1.0, norm_type=p,
                      trainable=False)
    idx = rng.integers(0, 20, size=(5, 6))
    out = layer(idx)
    expected = reference_renorm(table.astype(dtype), idx, 1.0, p)
    np.testing.assert_allclose(layer.weights, expected, **TOL[dtype])
    np.testing.assert_array_equal(out, layer.weights[idx])
    norms = np.linalg.norm(out.astype(np.float64), ord=p, axis=-1)
    assert norms.max() <= 1.0 + 1e-5
    readonly = table.astype(dtype)
    readonly.flags.writeable = False
    frozen = Embedding.from_pretrained(readonly, copy=False, max_norm=1.0)
    with pytest.raises(ValueError, match="max_norm rescales rows in the table, which is read-only"):
        frozen(idx)
    np.testing.assert_array_equal(Embedding.from_pretrained(readonly, copy=False)(idx),
                                  readonly[idx])
    # rows not looked up are untouched, bit for bit
    untouched = np.setdiff1d(np.arange(40), idx)
    assert layer.weights[untouched].tobytes() == table.astype(dtype)[untouched].tobytes()


# ---------------------------------------------------------------- construction

def test_uniform_initializer_is_keras_range_and_seeded():
    a = Embedding(2000, 30, seed=3)
    b = Embedding(2000, 30, seed=3)
    assert a.weights.dtype == np.float32 and a.weights.flags.c_contiguous
    assert a.weights.min() >= -0.05 and a.weights.max() < 0.05
    assert abs(a.weights.mean()) < 1e-3 and a.weights.std() > 0.025
    np.testing.assert_array_equal(a.weights, b.weights)
    assert Embedding(3, 2, embeddings_initializer="zeros").weights.sum() == 0
    assert Embedding(3, 2, embeddings_initializer=lambda s: np.ones(s)).weights.sum() == 6
    with pytest.raises(ValueError, match="embeddings_initializer must be"):
        Embedding(3, 2, embeddings_initializer="glorot")
    with pytest.raises(TypeError, match="float32 or float64"):
        Embedding(3, 2, dtype="float16")


def test_weights_get_set_like_keras():
    w = np.arange(12, dtype=np.float64).reshape(4, 3)
    layer = Embedding(4, 3, weights=[w])
    np.testing.assert_array_equal(layer.weights, w)
    got = layer.get_weights()
    assert isinstance(got, list) and len(got) == 1
    got[0][:] = -1  # a copy
    np.testing.assert_array_equal(layer.weights, w)
    live = layer.weights
    layer.set_weights([w * 2])
    assert layer.weights is live  # in place
    np.testing.assert_array_equal(layer.weights, w * 2)
    layer.set_weights(w)
    np.testing.assert_array_equal(layer.embeddings, w)
    with pytest.raises(ValueError, match=r"weights must have shape \(4, 3\)"):
        layer.set_weights([np.zeros((3, 3))])
    with pytest.raises(ValueError, match="1 weight array, got 2"):
        layer.set_weights([w, w])
    with pytest.raises(ValueError, match=r"weights must have shape \(5, 3\)"):
        Embedding(5, 3, weights=w)


def test_weights_can_only_be_replaced_by_a_compatible_array():
    layer = Embedding(4, 3)
    new = np.ones((4, 3), np.float32)
    layer.weights = new
    assert layer.weights is new
    with pytest.raises(ValueError, match=r"shape \(4, 3\), got float32 \(5, 3\); use set_weights"):
        layer.weights = np.ones((5, 3), np.float32)
    with pytest.raises(ValueError, match="not C-contiguous"):
        layer.weights = np.ones((3, 4), np.float32).T
    with pytest.raises(ValueError, match="float32/float64"):
        layer.weights = np.ones((4, 3), np.int64)
    with pytest.raises(TypeError, match="NumPy array"):
        layer.weights = [[0.0] * 3] * 4


def test_trainable_mask_and_frozen_rows():
    layer = Embedding(6, 2, frozen_rows=[1, 4], mask_zero=True)
    np.testing.assert_array_equal(layer.trainable_mask, [0, 0, 1, 1, 0, 1])
    layer.trainable = False
    assert not layer.trainable and not layer.trainable_mask.any()
    layer.trainable_mask = np.ones(6, bool)
    np.testing.assert_array_equal(layer.trainable_mask, [0, 1, 1, 1, 1, 1])  # padding stays
    with pytest.raises(IndexError, match="out of range"):
        Embedding(6, 2, frozen_rows=[6])
    # an empty list freezes nothing (np.asarray([]) is float64, not a float index)
    for nothing in ([], (), np.array([], dtype=np.int64)):
        assert Embedding(6, 2, frozen_rows=nothing).trainable_mask.all()
    with pytest.raises(ValueError, match="trainable='missing' is for"):
        Embedding(6, 2, trainable="missing")


class FakeAligned:
    """Stands in for embload.AlignedEmbedding: anything with .matrix and .found."""

    def __init__(self, matrix, found):
        self.matrix = matrix
        self.found = found


def test_from_pretrained_three_ways():
    rng = np.random.default_rng(8)
    matrix = rng.standard_normal((6, 4)).astype(np.float32)
    matrix[0] = 0
    found = np.array([False, True, False, True, True, False])
    aligned = FakeAligned(matrix, found)

    frozen = Embedding.from_pretrained(aligned)
    assert not frozen.trainable and frozen.mask_zero
    np.testing.assert_array_equal(frozen.weights, matrix)
    assert frozen.weights is not matrix

    tuned = Embedding.from_pretrained(aligned, trainable=True)
    np.testing.assert_array_equal(tuned.trainable_mask, [0, 1, 1, 1, 1, 1])

    missing = Embedding.from_pretrained(aligned, trainable="missing")
    np.testing.assert_array_equal(missing.trainable_mask, [0, 0, 1, 0, 0, 1])
    missing_unmasked = Embedding.from_pretrained(aligned, trainable="missing", mask_zero=False)
    np.testing.assert_array_equal(missing_unmasked.trainable_mask, [0, 0, 1, 0, 0, 1])
    assert missing_unmasked.compute_mask([0, 1]) is None

    plain = Embedding.from_pretrained(matrix, trainable=True)
    assert not plain.mask_zero and plain.trainable_mask.all()
    shared = Embedding.from_pretrained(matrix, copy=False)
    assert shared.weights is matrix
    assert Embedding.from_pretrained(matrix.astype(np.float16)).dtype == np.float32
    assert Embedding.from_pretrained(matrix, dtype=np.float64).dtype == np.float64
    # NumPy bools are accepted as in the constructor (e.g. from a config array)
    assert Embedding.from_pretrained(matrix, trainable=np.True_).trainable_mask.all()
    assert not Embedding.from_pretrained(matrix, trainable=np.False_).trainable


def test_from_pretrained_errors():
    matrix = np.zeros((3, 2))
    with pytest.raises(TypeError, match="needs an AlignedEmbedding"):
        Embedding.from_pretrained(matrix, trainable="missing")
    with pytest.raises(ValueError, match="must be False, True or 'missing'"):
        Embedding.from_pretrained(matrix, trainable="yes")
    with pytest.raises(ValueError, match="must be 2-D"):
        Embedding.from_pretrained(np.zeros(3))

    class VectorsLike:
        words = ["a"]
        vectors = matrix

    with pytest.raises(TypeError, match="align them to your tokenizer first"):
        Embedding.from_pretrained(VectorsLike())


# ---------------------------------------------------------------- kernels directly

@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_kernel_unique_rows_and_check_indices(itype):
    idx = np.array([5, 3, 5, 9, 0], dtype=itype)
    np.testing.assert_array_equal(_layer.unique_rows(idx, 10), [0, 3, 5, 9])
    keep = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1, 1], dtype=np.uint8)
    np.testing.assert_array_equal(_layer.unique_rows(idx, 10, keep), [0, 5, 9])
    assert _layer.check_indices(idx, 10) == -1
    assert _layer.check_indices(idx, 9) == 3
    assert _layer.check_indices(np.array([], dtype=itype), 0) == -1


def test_kernel_wrappers_refuse_inputs_that_would_write_out_of_bounds():
    t = np.zeros((5, 3), np.float32)
    v = np.zeros((1, 3), np.float32)
    calls = [
        lambda: _layer.gather(t, np.array([7]), np.zeros((1, 3), np.float32), 1),
        lambda: _layer.gather(t, np.array([1, 2]), v, 1),
        lambda: _layer.coalesce(np.array([9]), v, 5, None, 1),
        lambda: _layer.coalesce(np.array([1]), v, 5, np.ones(3, np.uint8), 1),
        lambda: _layer.step("sgd", t, (), np.array([5]), v, 0.1),
        lambda: _layer.step("sgd", t, (), np.array([1, 2]), v, 0.1),
        lambda: _layer.step("adam", t, (t, np.zeros((4, 3), np.float32)), np.array([1]), v,
                            0.1, beta1=0.9, beta2=0.9, eps=1e-8),
        lambda: _layer.sgd_fused(t, np.array([-1]), v, None, 0.1, 1),
        lambda: _layer.renorm(t, np.array([5]), 1.0, 2.0, 1),
    ]
    for call in calls:
        with pytest.raises((ValueError, IndexError), match="embload._layer"):
            call()
    assert not t.any()


def test_mask_zero_set_later_freezes_row_zero_and_unset_restores_it():
    layer = Embedding(4, 2, frozen_rows=[2], seed=0)
    assert layer.trainable_mask.tolist() == [True, True, False, True]
    layer.mask_zero = True
    assert layer.trainable_mask.tolist() == [False, True, False, True]
    before = layer.weights.copy()
    SGD(0.5).update(layer, np.array([[0, 1, 2]]), np.ones((1, 3, 2), dtype=np.float32))
    assert np.array_equal(layer.weights[[0, 2, 3]], before[[0, 2, 3]])
    assert np.array_equal(layer.weights[1], before[1] - 0.5)
    layer.mask_zero = False
    assert layer.trainable_mask.tolist() == [True, True, False, True]


@pytest.mark.parametrize("path", ["forward", "max_norm", "backward", "update",
                                  "frozen backward", "frozen update", "dim 0"])
@pytest.mark.parametrize("bad", [-1, 6])
def test_every_path_names_the_bad_index_and_writes_nothing(path, bad):
    # The kernels check the indices (once); each path must still name the
    # offending entry as the user wrote it, and leave the table alone.
    dim = 0 if path == "dim 0" else 3
    layer = Embedding(6, dim, seed=0, trainable=not path.startswith("frozen"),
                      max_norm=1e-3 if path == "max_norm" else None)
    before = layer.weights.copy()
    idx = np.array([[1, 2], [3, bad]], dtype=np.int32)
    grad = np.ones((2, 2, dim), np.float32)
    call = {"forward": lambda: layer(idx), "max_norm": lambda: layer(idx),
            "dim 0": lambda: layer(idx),
            "backward": lambda: layer.backward(idx, grad),
            "frozen backward": lambda: layer.backward(idx, grad),
            "update": lambda: SGD(1.0).update(layer, idx, grad),
            "frozen update": lambda: SGD(1.0).update(layer, idx, grad)}[path]
    with pytest.raises(IndexError, match=rf"indices\[1, 1\] = {bad} "):
        call()
    assert layer.weights.tobytes() == before.tobytes()


def test_sparse_grad_refuses_non_float_values_and_negative_num_rows():
    for values in (np.array([[1j, 2, 3]]), np.array([[True, False, True]]),
                   np.array([[1, 2, None]], dtype=object)):
        with pytest.raises(TypeError, match="values must be a float array"):
            SparseGrad([1], values, 5)
    with pytest.raises(ValueError, match="num_rows must be >= 0, got -2"):
        SparseGrad([], np.ones((0, 3)), -2)
    assert SparseGrad([1, 1], np.array([[1, 2]], dtype=np.int16).repeat(2, 0), 3).values.tolist() \
        == [[2.0, 4.0]]


# ---------------------------------------------------------------- the optimizers' entry point

def dense_rule(rule, w, states, g, touched, lr, wd=0.0, momentum=0.0, nesterov=False,
               beta1=0.0, beta2=0.0, eps=0.0):
    """One step of ``rule`` over the whole table in float64; rows not touched keep
    their weights and state."""
    t = touched[:, None]
    g = g + wd * w
    states = [s.copy() for s in states]
    if rule == "sgd":
        new_w = w - lr * g
    elif rule == "momentum":
        buf = momentum * states[0] + g
        new_w = w - lr * (g + momentum * buf if nesterov else buf)
        states[0] = np.where(t, buf, states[0])
    elif rule == "adagrad":
        acc = states[0] + g * g
        new_w = w - lr * g / (np.sqrt(acc) + eps)
        states[0] = np.where(t, acc, states[0])
    else:
        m = states[0] + (1 - beta1) * (g - states[0])
        v = states[1] + (1 - beta2) * (g * g - states[1])
        new_w = w - lr * m / (np.sqrt(v) + eps)
        states[0], states[1] = np.where(t, m, states[0]), np.where(t, v, states[1])
    return np.where(t, new_w, w), states


RULES = [
    ("sgd", 0, dict(lr=0.3)),
    ("sgd", 0, dict(lr=0.3, wd=0.1)),
    ("momentum", 1, dict(lr=0.2, momentum=0.9)),
    ("momentum", 1, dict(lr=0.2, wd=0.05, momentum=0.8, nesterov=True)),
    ("adagrad", 1, dict(lr=0.1, eps=1e-6)),
    ("adagrad", 1, dict(lr=0.1, wd=0.02, eps=1e-3)),
    ("adam", 2, dict(lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8)),
    ("adam", 2, dict(lr=0.05, wd=0.1, beta1=0.8, beta2=0.99, eps=1e-6)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rule,nstate,kw", RULES,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(RULES)])
def test_step_entry_point_matches_dense_rule(dtype, rule, nstate, kw, threaded):
    rng = np.random.default_rng(30)
    n, dim = 200, 19
    w0 = rng.standard_normal((n, dim)).astype(dtype)
    s0 = [rng.random((n, dim)).astype(dtype) for _ in range(nstate)]  # >= 0: v, acc
    rows = np.unique(rng.integers(0, n, 70)).astype(np.int64)
    values = rng.standard_normal((len(rows), dim)).astype(dtype)
    dense = np.zeros((n, dim))
    dense[rows] = values
    touched = np.zeros(n, bool)
    touched[rows] = True
    ref_w, ref_states = dense_rule(rule, w0.astype(np.float64), [s.astype(np.float64) for s in s0],
                                   dense, touched, **kw)
    results = []
    for threads in (1, 2, 3):
        w, states = w0.copy(), tuple(s.copy() for s in s0)
        _layer.step(rule, w, states, rows, values, nthreads=threads, **kw)
        np.testing.assert_allclose(w, ref_w, **TOL[dtype])
        for got, want in zip(states, ref_states):
            np.testing.assert_allclose(got, want, **TOL[dtype])
        # rows left out keep every bit, weights and state
        assert w[~touched].tobytes() == w0[~touched].tobytes()
        for got, before in zip(states, s0):
            assert got[~touched].tobytes() == before[~touched].tobytes()
        results.append(w.tobytes() + b"".join(s.tobytes() for s in states))
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("dtype", DTYPES)
def test_step_entry_point_refuses_what_it_cannot_do_safely(dtype):
    t = np.zeros((5, 3), dtype)
    other = np.float64 if dtype == np.float32 else np.float32
    v = np.ones((2, 3), dtype)
    state = np.zeros((5, 3), dtype)
    read_only = np.zeros((5, 3), dtype)
    read_only.flags.writeable = False
    calls = [
        (lambda: _layer.step("rmsprop", t, (), np.array([1, 2]), v, 0.1), "unknown optimizer rule"),
        (lambda: _layer.step("adam", t, (state,), np.array([1, 2]), v, 0.1), "takes 2 state arrays"),
        (lambda: _layer.step("sgd", t, (state,), np.array([1, 2]), v, 0.1), "takes 0 state arrays"),
        (lambda: _layer.step("adagrad", t, (state.astype(other),), np.array([1, 2]), v, 0.1),
         "state array 0 must have the table's shape and dtype"),
        (lambda: _layer.step("momentum", t, (state[:4],), np.array([1, 2]), v, 0.1),
         "state array 0 must have the table's shape"),
        (lambda: _layer.step("adagrad", t, ([[0.0] * 3] * 5,), np.array([1, 2]), v, 0.1),
         "state array 0 must have"),
        (lambda: _layer.step("adagrad", t, (np.zeros((3, 5), dtype).T,), np.array([1, 2]), v,
                             0.1), "C-contiguous"),
        (lambda: _layer.step("adam", t, (state, read_only), np.array([1, 2]), v, 0.1),
         "state array 1 .* writeable"),
        (lambda: _layer.step("sgd", t, (), np.array([2, 2]), v, 0.1), "unique and ascending"),
        (lambda: _layer.step("sgd", t, (), np.array([3, 1]), v, 0.1), "unique and ascending"),
        (lambda: _layer.step("sgd", t, (), np.array([1, 5]), v, 0.1), "outside 0..4"),
        (lambda: _layer.step("sgd", t, (), np.array([1]), v, 0.1), r"values must have shape"),
    ]
    for call, message in calls:
        with pytest.raises((ValueError, IndexError), match=message):
            call()
    assert not t.any() and not state.any()


# ---------------------------------------------------------------- the optimizers' interface

@pytest.mark.parametrize("dtype", DTYPES)
def test_trainable_gradient_is_the_dense_gradient_on_trainable_rows(dtype):
    rng = np.random.default_rng(31)
    n, dim = 40, 6
    layer = Embedding(n, dim, dtype=dtype, seed=0, frozen_rows=[2, 9], mask_zero=True)
    trainable = layer.trainable_mask
    idx = zipf_indices(rng, (7, 5), n)
    idx[0, :3] = [0, 2, 9]
    grad = rng.standard_normal((7, 5, dim))
    want = dense_grad(idx, grad, n, trainable)
    for given_grad in (layer.backward(idx, grad),
                       SparseGrad(idx.reshape(-1), grad.reshape(-1, dim), n)):
        got = layer.trainable_gradient(given_grad)
        assert got.values.dtype == dtype and got.values.flags.c_contiguous
        assert got.rows.dtype == np.int64
        assert np.all(np.diff(got.rows) > 0) and trainable[got.rows].all()
        np.testing.assert_allclose(got.to_dense(), want, **TOL[dtype])
    # rows edited by hand into repeats (and out of order) are summed, not applied twice
    edited = SparseGrad([1, 4, 7], np.arange(18.0).reshape(3, 6), n)
    edited.rows = np.array([7, 4, 7])
    got = layer.trainable_gradient(edited)
    assert got.rows.tolist() == [4, 7]
    np.testing.assert_array_equal(got.values, [np.arange(6.0, 12.0), np.arange(0.0, 6.0)
                                               + np.arange(12.0, 18.0)])
    matrix = np.zeros((n, dim), dtype)
    matrix.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        Embedding.from_pretrained(matrix, trainable=True, copy=False).trainable_gradient(
            SparseGrad([1], np.ones((1, dim)), n))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_step_is_a_dense_sgd_step_on_trainable_rows(dtype, threaded):
    rng = np.random.default_rng(32)
    n, dim = 60, 33
    for threads in (1, 2):
        layer = Embedding(n, dim, dtype=dtype, seed=3, frozen_rows=[1, 5], threads=threads)
        w = layer.weights.astype(np.float64)
        idx = zipf_indices(rng, (9, 8), n)
        grad = rng.standard_normal((9, 8, dim))
        layer.sgd_step(idx, grad, 0.25)
        want = w - 0.25 * dense_grad(idx, grad, n, layer.trainable_mask)
        np.testing.assert_allclose(layer.weights, want, **TOL[dtype])
        assert layer.weights[[1, 5]].astype(np.float64).tobytes() == w[[1, 5]].tobytes()
    with pytest.raises(IndexError, match=r"indices\[1\] = 60 is out of range"):
        layer.sgd_step([0, 60], np.ones((2, dim)), 0.1)
    with pytest.raises(ValueError, match=r"grad_output must have shape \(2, 33\)"):
        layer.sgd_step([0, 1], np.ones((2, 3)), 0.1)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_trainable_gradient_of_any_hand_made_rows_is_their_dense_sum(data):
    n, dim = data.draw(st.integers(1, 30)), data.draw(st.integers(1, 5))
    dtype = data.draw(st.sampled_from(DTYPES))
    rows = data.draw(st.lists(st.integers(0, n - 1), max_size=40))
    frozen = data.draw(st.lists(st.integers(0, n - 1), max_size=5))
    values = np.random.default_rng(len(rows)).standard_normal((len(rows), dim))
    layer = Embedding(n, dim, dtype=dtype, frozen_rows=frozen)
    grad = SparseGrad([0] * len(rows), values, n)  # then edited by hand, as a user may
    grad.rows, grad.values = np.array(rows, dtype=np.int64), values
    got = layer.trainable_gradient(grad)
    want = np.zeros((n, dim))
    np.add.at(want, np.array(rows, dtype=np.intp), values)
    want[~layer.trainable_mask] = 0
    assert np.all(np.diff(got.rows) > 0) and layer.trainable_mask[got.rows].all()
    assert set(got.rows.tolist()) == set(rows) - set(frozen)
    np.testing.assert_allclose(got.to_dense(), want, **TOL[dtype])
