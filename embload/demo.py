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

__all__ = ["main", "find_data_dir", "read_labelled", "run_demo", "SAMPLE_FILES"]

MODES = (
    ("frozen", False),
    ("fine-tuned", True),
    ("missing rows only", "missing"),
)


# The files the demo reads; the installed package carries them as embload/data/
# (pyproject.toml maps the source tree's data/ folder to the package embload.data).
SAMPLE_FILES = ("polarity.tsv", "sample.vec")


def _bundled_data_dirs():
    """Where the sample data can be: the installed package's copy, then the source checkout."""
    package = os.path.dirname(os.path.abspath(__file__))
    folders = [os.path.join(package, "data")]  # installed from a wheel or an sdist
    # editable install or a checkout: the top-level data/, the one source of truth (only
    # in a checkout: a folder named data next to an installed package is someone else's)
    checkout = os.path.dirname(package)
    if os.path.isfile(os.path.join(checkout, "scripts", "make_sample_data.py")):
        folders.append(os.path.join(checkout, "data"))
    return folders


def find_data_dir(explicit=None):
    """The sample-data folder: ``explicit``, else the package's copy, else the checkout's ``data/``.

    Raises FileNotFoundError (one line, saying where it looked) when none holds ``polarity.tsv``.
    """
    candidates = [explicit] if explicit else _bundled_data_dirs()
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "polarity.tsv")):
            return candidate
    if explicit:
        raise FileNotFoundError(f"{explicit} holds no polarity.tsv; --data takes a folder with "
                                f"{' and '.join(SAMPLE_FILES)} (label<TAB>text lines and a vectors file)")
    raise FileNotFoundError(
        "the sample data is missing (no polarity.tsv in " + " or ".join(candidates)
        + "): reinstall embload, or give a folder with --data DIR; in a source checkout, "
        "make it with: python scripts/make_sample_data.py")


def _shown(path):
    """A path as the user can find it: relative to the current folder when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith(os.pardir) else relative


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
             lr=0.01, seed=0, progress=None, out=None):
    """Run the demo, printing to ``out`` (default: ``sys.stdout`` at call time); return
    ``{mode: (mean accuracy, std, seconds)}``."""
    from .align import load_aligned
    from .layer import Embedding
    from .text import Tokenizer, pad_sequences

    def say(text=""):
        print(text, file=sys.stdout if out is None else out, flush=True)

    texts, labels = read_labelled(os.path.join(data_dir, "polarity.tsv"))
    say(f"1. data: {len(texts)} labelled sentences from {_shown(os.path.join(data_dir, 'polarity.tsv'))} "
        f"({int(labels.sum())} positive)")

    tokenizer = Tokenizer(oov_token=None)
    tokenizer.fit_on_texts(texts)
    sequences = tokenizer.texts_to_sequences(texts)
    maxlen = int(np.percentile([len(s) for s in sequences], 95))
    x = pad_sequences(sequences, maxlen=maxlen, padding="post", truncating="post")
    say(f"2. tokenizer: {len(tokenizer.word_index)} words; sequences padded to {maxlen} tokens")

    vectors_path = _shown(os.path.join(data_dir, vectors_name))
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
    """``embload demo``: return the exit status (0 done, 1 missing or bad data, 2 usage)."""
    from .errors import EmbeddingFormatError

    parser = argparse.ArgumentParser(
        prog="embload demo",
        description="Tokenize the bundled polarity sentences, align the sample vectors, "
                    "and train a small classifier frozen / fine-tuned / missing-rows-only.",
    )
    parser.add_argument("--data", metavar="DIR",
                        help="folder holding polarity.tsv and the vectors file (default: the "
                             "sample data installed with embload, or data/ in a source checkout)")
    parser.add_argument("--vectors", default="sample.vec", metavar="NAME",
                        help="vectors file inside --data, in any format embload reads "
                             "(default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=30, metavar="N",
                        help="passes over the training sentences per fold (default: %(default)s)")
    parser.add_argument("--folds", type=int, default=5, metavar="K",
                        help="cross-validation folds, at least 2 (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the fold split, the initial weights, the random rows of "
                             "missing words and the batch order (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else 2
    if args.folds < 2 or args.epochs < 0:
        parser.print_usage(sys.stderr)
        print("embload demo: error: --folds must be at least 2 and --epochs at least 0",
              file=sys.stderr)
        return 2
    try:
        data_dir = find_data_dir(args.data)
        run_demo(data_dir, vectors_name=args.vectors, folds=args.folds, epochs=args.epochs,
                 seed=args.seed, progress=False if args.no_progress else None)
    except (EmbeddingFormatError, ValueError, OSError) as exc:
        if isinstance(exc, BrokenPipeError):
            return 0
        message = str(exc)
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            message = f"{exc.filename}: {exc.strerror}"
        print(f"embload demo: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("embload demo: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
