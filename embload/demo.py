"""``embload demo``: the whole toolkit on the bundled sample data.

1. read 200 labelled movie-review sentences (``data/polarity.tsv``),
2. fit a Keras-compatible :class:`~embload.Tokenizer` and pad the sequences,
3. align the sample word2vec vectors to the tokenizer's ``word_index`` and
   report the coverage,
4. train a small classifier - mean-pooled embeddings + logistic regression,
   written with :class:`~embload.Embedding` and its sparse optimizers - three
   ways: pretrained table frozen, fine-tuned, and only the rows missing from the
   file trained; print cross-validated accuracy and time for each.
"""
import argparse
import os
import sys
import time

import numpy as np

__all__ = ["main", "find_data_dir", "read_labelled", "run_demo"]

MODES = (
    ("frozen", False),
    ("fine-tuned", True),
    ("missing rows only", "missing"),
)


def find_data_dir(explicit=None):
    """The sample-data folder: ``explicit``, else ``./data``, else the source checkout's ``data/``."""
    candidates = [explicit] if explicit else [
        os.path.join(os.getcwd(), "data"),
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(os.path.join(candidate, "polarity.tsv")):
            return candidate
    raise FileNotFoundError(
        "sample data not found (looked for polarity.tsv in: "
        + ", ".join(str(c) for c in candidates)
        + "); run the demo from the embload source folder, pass --data DIR, "
        "or make the data with: python scripts/make_sample_data.py --out DIR"
    )


def read_labelled(path):
    """``(texts, labels)`` from a ``label<TAB>text`` file; labels 1 for "pos", 0 otherwise."""
    texts, labels = [], []
    # Read bytes and decode line by line, so that a line that is not UTF-8 is
    # named (a text-mode file would only say which byte offset failed).
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                shown = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
                raise ValueError(f"{path}, line {number}: not UTF-8 ({exc.reason} at byte "
                                 f"{exc.start}): {shown[:100]!r}") from None
            if not line:
                continue
            label, sep, text = line.partition("\t")
            if not sep:
                raise ValueError(f"{path}, line {number}: expected 'label<TAB>text': {line[:100]!r}")
            texts.append(text)
            labels.append(1 if label == "pos" else 0)
    if not texts:
        raise ValueError(f"{path}: no labelled sentences (expected 'label<TAB>text' lines)")
    return texts, np.asarray(labels, dtype=np.float64)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class _MeanPoolLogistic:
    """Mean of the looked-up rows (padding masked out) -> logistic regression."""

    def __init__(self, layer, seed, lr):
        from .optimizers import Adam

        self.layer = layer
        rng = np.random.default_rng(seed)
        self.w = rng.normal(0.0, 0.1, layer.output_dim)
        self.b = 0.0
        self.lr = lr
        self.table_optimizer = Adam(lr=lr) if layer.trainable else None
        # classifier weights: plain dense Adam, in NumPy
        self._m = np.zeros_like(self.w)
        self._v = np.zeros_like(self.w)
        self._mb = self._vb = 0.0
        self._t = 0

    def pooled(self, batch):
        # the layer's own padding mask (from_pretrained of an aligned table sets mask_zero)
        mask = self.layer.compute_mask(batch)
        counts = np.maximum(mask.sum(axis=1), 1).astype(np.float64)
        rows = self.layer(batch).astype(np.float64)
        return (rows * mask[..., None]).sum(axis=1) / counts[:, None], mask, counts

    def predict(self, batch):
        pooled, _, _ = self.pooled(batch)
        return _sigmoid(pooled @ self.w + self.b)

    def train_step(self, batch, y):
        pooled, mask, counts = self.pooled(batch)
        p = _sigmoid(pooled @ self.w + self.b)
        dz = (p - y) / len(y)
        grad_w = pooled.T @ dz
        grad_b = float(dz.sum())
        if self.table_optimizer is not None:
            grad_pooled = dz[:, None] * self.w[None, :]
            grad_rows = grad_pooled[:, None, :] * (mask[..., None] / counts[:, None, None])
            grad = self.layer.backward(batch, grad_rows.astype(self.layer.weights.dtype))
            self.table_optimizer.step(self.layer, grad)
        self._adam(grad_w, grad_b)

    def _adam(self, grad_w, grad_b, beta1=0.9, beta2=0.999, eps=1e-8):
        self._t += 1
        self._m = beta1 * self._m + (1 - beta1) * grad_w
        self._v = beta2 * self._v + (1 - beta2) * grad_w ** 2
        self._mb = beta1 * self._mb + (1 - beta1) * grad_b
        self._vb = beta2 * self._vb + (1 - beta2) * grad_b ** 2
        c1, c2 = 1 - beta1 ** self._t, 1 - beta2 ** self._t
        self.w -= self.lr * (self._m / c1) / (np.sqrt(self._v / c2) + eps)
        self.b -= self.lr * (self._mb / c1) / (np.sqrt(self._vb / c2) + eps)


def run_demo(data_dir, *, vectors_name="sample.vec", folds=5, epochs=30, batch_size=16,
             lr=0.01, seed=0, progress=None, out=sys.stdout):
    """Run the demo; return ``{mode: (mean accuracy, std, seconds)}``."""
    from .align import load_aligned
    from .layer import Embedding
    from .text import Tokenizer, pad_sequences

    def say(text=""):
        print(text, file=out, flush=True)

    texts, labels = read_labelled(os.path.join(data_dir, "polarity.tsv"))
    say(f"1. data: {len(texts)} labelled sentences from {os.path.join(data_dir, 'polarity.tsv')} "
        f"({int(labels.sum())} positive)")

    tokenizer = Tokenizer(oov_token=None)
    tokenizer.fit_on_texts(texts)
    sequences = tokenizer.texts_to_sequences(texts)
    maxlen = int(np.percentile([len(s) for s in sequences], 95))
    x = pad_sequences(sequences, maxlen=maxlen, padding="post", truncating="post")
    say(f"2. tokenizer: {len(tokenizer.word_index)} words; sequences padded to {maxlen} tokens")

    vectors_path = os.path.join(data_dir, vectors_name)
    started = time.perf_counter()
    aligned = load_aligned(vectors_path, tokenizer.word_index, oov="normal", seed=seed,
                           progress=progress)
    say(f"3. aligned {vectors_path} in {1000 * (time.perf_counter() - started):.1f} ms")
    for line in aligned.summary(examples=8).splitlines():
        say("   " + line)
    token_share = aligned.token_coverage(tokenizer.word_counts)
    say(f"   rows found: {aligned.coverage:.1%} of the vocabulary, {token_share:.1%} of the tokens")

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    fold_of = np.empty(len(texts), dtype=np.int64)
    fold_of[order] = np.arange(len(texts)) % folds

    say(f"4. mean-pooled embeddings + logistic regression, {folds}-fold cross-validation, "
        f"{epochs} epochs, Adam lr={lr}")
    results = {}
    for name, trainable in MODES:
        started = time.perf_counter()
        accuracies = []
        for fold in range(folds):
            train = np.flatnonzero(fold_of != fold)
            test = np.flatnonzero(fold_of == fold)
            layer = Embedding.from_pretrained(aligned, trainable=trainable)
            model = _MeanPoolLogistic(layer, seed + fold, lr)
            fold_rng = np.random.default_rng(seed + 100 + fold)
            for _ in range(epochs):
                shuffled = fold_rng.permutation(train)
                for start in range(0, len(shuffled), batch_size):
                    batch = shuffled[start:start + batch_size]
                    model.train_step(x[batch], labels[batch])
            predicted = model.predict(x[test]) >= 0.5
            accuracies.append(float(np.mean(predicted == (labels[test] == 1))))
        seconds = time.perf_counter() - started
        results[name] = (float(np.mean(accuracies)), float(np.std(accuracies)), seconds)
        say(f"   {name:<18} accuracy {np.mean(accuracies):.3f} +- {np.std(accuracies):.3f}   "
            f"time {seconds:.2f} s")
    say("(200 sentences are few: the accuracies are noisy; the point is the workflow.)")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="embload demo",
        description="Tokenize the bundled polarity sentences, align the sample vectors, "
                    "and train a small classifier frozen / fine-tuned / missing-rows-only.",
    )
    parser.add_argument("--data", help="folder holding polarity.tsv and sample.vec (default: ./data)")
    parser.add_argument("--vectors", default="sample.vec",
                        help="vectors file inside --data (any format embload reads)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    data_dir = find_data_dir(args.data)
    run_demo(data_dir, vectors_name=args.vectors, folds=args.folds, epochs=args.epochs,
             seed=args.seed, progress=False if args.no_progress else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
