"""Interop with gensim, PyTorch, Keras 3 and JAX; each part skips cleanly where the library is absent."""

import importlib.util
import os

import numpy as np
import pytest

import embload

from embload import cache, interop
from embload.vectors import Vectors

WORDS = ["the", "cat", "sat", "on", "mat"]


@pytest.fixture
def vectors():
    rng = np.random.default_rng(11)
    return Vectors(WORDS, rng.standard_normal((len(WORDS), 4)).astype(np.float32))


@pytest.fixture
def aligned(vectors):
    return vectors.align({"cat": 1, "dog": 2, "the": 3}, oov="zeros")


# --- errors that need no library ---------------------------------------------------------
def test_missing_library_says_what_to_install(monkeypatch, vectors):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    monkeypatch.delitem(__import__("sys").modules, "torch", raising=False)
    with pytest.raises(ImportError, match="to_torch\\(\\) needs torch: pip install torch"):
        interop.aligned_to_torch(vectors.vectors)


def test_matrix_checks():
    with pytest.raises(ValueError, match="2-D"):
        interop._matrix_of(np.zeros(3))
    with pytest.raises(ValueError, match="floating-point"):
        interop._matrix_of(np.zeros((2, 2), np.int64))


# --- gensim ------------------------------------------------------------------------------
def test_to_gensim_shares_and_behaves(vectors):
    gensim_models = pytest.importorskip("gensim.models")
    kv = vectors.to_gensim()
    assert isinstance(kv, gensim_models.KeyedVectors)
    assert kv.index_to_key == WORDS
    assert kv.key_to_index == vectors.key_to_index
    assert np.shares_memory(kv.vectors, vectors.vectors)
    assert np.array_equal(kv["sat"], vectors["sat"])
    # similarity against a plain NumPy cosine
    unit = vectors.vectors / np.linalg.norm(vectors.vectors, axis=1, keepdims=True)
    expected = sorted(((float(unit[0] @ unit[i]), WORDS[i]) for i in range(1, 5)), reverse=True)
    got = kv.most_similar("the", topn=4)
    assert [w for w, _ in got] == [w for _, w in expected]
    assert np.allclose([s for _, s in got], [s for s, _ in expected], atol=1e-6)


def test_gensim_writes_what_embload_reads(vectors, tmp_path):
    pytest.importorskip("gensim.models")
    from embload.read import load
    kv = vectors.to_gensim()
    kv.save_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    back = load(tmp_path / "v.bin")
    assert back.words == WORDS and np.array_equal(back.vectors, vectors.vectors)


def test_to_gensim_from_memory_mapped_cache(vectors, tmp_path):
    pytest.importorskip("gensim.models")
    cache.write_cache(vectors, tmp_path / "c")
    kv = cache.open_cache(tmp_path / "c").to_gensim()
    assert not kv.vectors.flags.writeable  # still the read-only map, not a copy
    assert kv.most_similar("cat", topn=1)[0][0] in WORDS


def test_from_gensim_model_and_keyed_vectors():
    gensim_models = pytest.importorskip("gensim.models")
    from gensim.test.utils import common_texts

    model = gensim_models.Word2Vec(common_texts, vector_size=8, min_count=1, workers=1, seed=1, epochs=1)
    v = Vectors.from_gensim(model)
    assert v.words == model.wv.index_to_key
    assert np.array_equal(v.vectors, model.wv.vectors)
    assert v.format == "gensim"
    v2 = interop.vectors_from_gensim(model.wv)
    assert np.array_equal(v2["system"], model.wv["system"])


def test_from_gensim_rejects_non_string_keys():
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(2)
    kv.add_vectors([10, 20], np.ones((2, 2), np.float32))
    with pytest.raises(TypeError, match="gensim key 10 at index 0 is a int"):
        interop.vectors_from_gensim(kv)
    with pytest.raises(TypeError, match="expected a gensim KeyedVectors"):
        interop.vectors_from_gensim(object())


# --- PyTorch -----------------------------------------------------------------------------
def test_to_torch(aligned):
    torch = pytest.importorskip("torch")
    emb = interop.aligned_to_torch(aligned)
    assert isinstance(emb, torch.nn.Embedding)
    assert emb.num_embeddings == aligned.num_words and emb.embedding_dim == aligned.dim
    assert emb.padding_idx == 0 and not emb.weight.requires_grad
    assert np.array_equal(emb.weight.detach().numpy(), aligned.matrix)
    out = emb(torch.tensor([[3, 1, 0]]))
    assert np.array_equal(out[0].numpy(), aligned.matrix[[3, 1, 0]])


def test_to_torch_trainable_copy_and_padding(aligned):
    torch = pytest.importorskip("torch")
    before = aligned.matrix.copy()
    emb = interop.aligned_to_torch(aligned, freeze=False, padding_idx=0)
    assert emb.weight.requires_grad
    emb(torch.tensor([0, 1, 1, 3])).sum().backward()
    grad = emb.weight.grad.numpy()
    assert np.all(grad[0] == 0) and np.all(grad[1] == 2) and np.all(grad[3] == 1)
    with torch.no_grad():
        emb.weight += 1
    assert np.array_equal(aligned.matrix, before)  # the layer holds a copy
    assert interop.aligned_to_torch(aligned, padding_idx=None).padding_idx is None
    with pytest.raises(ValueError, match="padding_idx 9 is outside the 4 rows"):
        interop.aligned_to_torch(aligned, padding_idx=9)


def test_to_torch_float16_and_read_only(vectors, tmp_path):
    torch = pytest.importorskip("torch")
    half = Vectors(WORDS, vectors.vectors.astype(np.float16))
    cache.write_cache(half, tmp_path / "c")
    emb = interop.aligned_to_torch(cache.open_cache(tmp_path / "c").vectors, padding_idx=None)
    assert emb.weight.dtype == torch.float16
    assert np.array_equal(emb.weight.detach().numpy(), half.vectors)


# --- Keras 3 -----------------------------------------------------------------------------
def _keras():
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras not installed")
    if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("tensorflow") is None:
        for backend in ("torch", "jax"):
            if importlib.util.find_spec(backend) is not None:
                os.environ["KERAS_BACKEND"] = backend
                break
    try:
        import keras
    except ImportError as exc:
        pytest.skip(f"keras has no usable backend: {exc}")
    if int(keras.__version__.split(".")[0]) < 3:
        pytest.skip("Keras 3 needed")
    return keras


def test_to_keras(aligned):
    keras = _keras()
    layer = interop.aligned_to_keras(aligned)
    assert isinstance(layer, keras.layers.Embedding)
    out = keras.ops.convert_to_numpy(layer(np.array([[3, 1, 0]])))
    assert np.array_equal(out[0], aligned.matrix[[3, 1, 0]])
    assert not layer.trainable
    mask = keras.ops.convert_to_numpy(layer.compute_mask(np.array([[0, 2]])))
    assert mask.tolist() == [[False, True]]
    assert np.array_equal(keras.ops.convert_to_numpy(layer.embeddings), aligned.matrix)
    assert interop.aligned_to_keras(aligned, trainable=True, mask_zero=False).trainable


def test_keras_initializer(aligned):
    keras = _keras()
    layer = keras.layers.Embedding(aligned.num_words, aligned.dim,
                                   embeddings_initializer=interop.aligned_keras_initializer(aligned))
    layer.build((None, 3))
    assert np.array_equal(keras.ops.convert_to_numpy(layer.embeddings), aligned.matrix)


# --- JAX ---------------------------------------------------------------------------------
def test_to_jax(aligned):
    jnp = pytest.importorskip("jax.numpy")
    table = interop.aligned_to_jax(aligned)
    assert table.shape == aligned.matrix.shape and table.dtype == jnp.float32
    # what flax's nn.Embed does with its table: take rows
    assert np.array_equal(np.asarray(jnp.take(table, jnp.array([3, 0, 1]), axis=0)), aligned.matrix[[3, 0, 1]])
    assert interop.aligned_to_jax(aligned, dtype=jnp.float16).dtype == jnp.float16


# --- the AlignedEmbedding methods the README shows ------------------------------------------
def test_aligned_methods_delegate(aligned):
    torch = pytest.importorskip("torch")
    emb = aligned.to_torch(freeze=False, padding_idx=0)
    assert isinstance(emb, torch.nn.Embedding) and emb.weight.requires_grad
    assert np.array_equal(emb.weight.detach().numpy(), aligned.matrix)


def test_aligned_to_jax_method(aligned):
    pytest.importorskip("jax")
    assert np.array_equal(np.asarray(aligned.to_jax()), aligned.matrix)


# --- model2vec folders ------------------------------------------------------------------
def test_save_pretrained_replaces_each_file_atomically(aligned, tmp_path, monkeypatch):
    pytest.importorskip("tokenizers")
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "README.md").write_text("the user's own file\n")
    (folder / "model.safetensors").write_bytes(b"old weights")
    real_save_file = safetensors_numpy.save_file

    def fails_halfway(tensors, filename):
        with open(filename, "wb") as handle:
            handle.write(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors_numpy, "save_file", fails_halfway)
    with pytest.raises(OSError, match="No space left"):
        aligned.save_pretrained(folder)
    # the old file whole, no temporary left, nothing else written
    assert sorted(os.listdir(folder)) == ["README.md", "model.safetensors"]
    assert (folder / "model.safetensors").read_bytes() == b"old weights"

    monkeypatch.setattr(safetensors_numpy, "save_file", real_save_file)
    assert aligned.save_pretrained(folder) == str(folder)
    assert sorted(os.listdir(folder)) == ["README.md", "config.json", "model.safetensors", "tokenizer.json"]
    assert (folder / "README.md").read_text() == "the user's own file\n"
    got = safetensors_numpy.load_file(str(folder / "model.safetensors"))["embeddings"]
    assert got.tobytes() == np.ascontiguousarray(aligned.matrix).tobytes()
    import json

    config = json.loads((folder / "config.json").read_text())
    assert config["hidden_dim"] == aligned.matrix.shape[1] and config["model_type"] == "model2vec"
    tokenizers = pytest.importorskip("tokenizers")
    assert tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json")).get_vocab()
