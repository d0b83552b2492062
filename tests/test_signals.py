"""SIGINT, SIGTERM and SIGHUP during a write: no temporary left, the old destination intact.

Each case runs the real command (``embload.cli.main``) in a child process writing a file
big enough to take a good part of a second, sends it a signal from outside at a chosen
moment of the write, and checks: exit status 128 + the signal number, nothing but the
old destination (byte for byte, or nothing if there was none) in the output folder.
The library variant (``embload.convert`` called from a Python program) must instead
die of the signal, as a program that never heard of embload would.

Moments: "early" as soon as the temporary exists, "middle" and "late" at 40% and 85%
of the rows (the writers report each finished part through their test hook
``write._after_block``) or of the matrix file's bytes (cache folder, ``align --out``,
watched from outside). The signal is sent from this process while the child runs
free, so it lands wherever the child happens to be: in C formatting or compressing
without the GIL, in a write, or in Python. A child that finished before the signal
came (a busy machine can starve the watcher) proves nothing; such a case is run again.

Cases: every output kind meets every signal once and every moment once per signal
(a Latin square, not the full product: each child costs a second), the destination
existing in about half of them (``embload convert`` over an existing file or cache
folder keeps it whole).
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import embload
from embload._write import row_bound

pytestmark = pytest.mark.skipif(os.name != "posix" or not hasattr(signal, "SIGHUP"),
                                reason="POSIX signals")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIM = 100
ROWS = 250_000      # of the source; 100 MB of float32

# name: (destination, --to, rows written). Sizes for about a second of writing on an
# idle core (compressors are much slower than the text formatter).
KINDS = {
    "glove": ("out.txt", "glove", 100_000),
    "word2vec": ("out.vec", None, 100_000),
    "word2vec-binary": ("out.bin", None, 250_000),
    "gz": ("out.vec.gz", None, 12_000),
    "bz2": ("out.txt.bz2", "glove", 6_000),
    "xz": ("out.vec.xz", None, 1_500),
    "zip": ("out.bin.zip", None, 15_000),
    "cache": ("out.embload", None, ROWS),
    "align": ("matrix.npy", None, 150_000),   # rows of the vocabulary
}
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
MOMENTS = ("early", "middle", "late")
FRACTION = {"middle": 0.40, "late": 0.85}
PARTS = 20   # the writers' parts per file: the moments need a few

# The child: report the writers' progress on stdout, then run the command or the library.
CHILD = r"""
import os, sys
from embload import write
block = int(os.environ.get("EMBLOAD_TEST_BLOCK_BYTES", "0"))
if block:
    write.BLOCK_BYTES = block
def report(done, total):
    sys.stdout.write(f"rows {done} {total}\n")
    sys.stdout.flush()
write._after_block = report
mode, args = sys.argv[1], sys.argv[2:]
if mode == "cli":
    from embload.cli import main
    sys.exit(main(args))
import embload
src, dst, to, limit = args
embload.convert(src, dst, to=to or None, limit=int(limit), progress=False)
"""


def case_list():
    cases = []
    for s, signum in enumerate(SIGNALS):
        for k, kind in enumerate(KINDS):
            moment = MOMENTS[(s + k) % len(MOMENTS)]
            cases.append(pytest.param(kind, signum, moment, (s + k) % 2 == 0,
                                      id=f"{kind}-{signal.Signals(signum).name}-{moment}"))
    return cases


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A cache folder (opens in milliseconds, so the child spends its time writing) and a
    vocabulary of all its words for ``align``. Values 0.1 ... 0.9: short text, and every
    row takes the same bytes."""
    folder = tmp_path_factory.mktemp("signals-source")
    rng = np.random.default_rng(0)
    matrix = (rng.integers(1, 10, size=(ROWS, DIM)) / 10).astype(np.float32)
    words = [f"w{i:07d}" for i in range(ROWS)]
    embload.save((words, matrix), folder / "src.embload", progress=False)
    (folder / "vocab.txt").write_text("\n".join(words[:KINDS["align"][2]]) + "\n")
    return folder


def child_env(kind, rows):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONWARNINGS", None)
    binary = KINDS[kind][0].endswith((".bin", ".bin.zip"))
    env["EMBLOAD_TEST_BLOCK_BYTES"] = str(max(1, rows // PARTS) * (row_bound(DIM, binary) + 16))
    return env


def command(kind, source, out_dir, mode):
    dst, to, rows = KINDS[kind]
    src = str(source / "src.embload")
    out = str(out_dir / dst)
    if mode == "api":
        return ["api", src, out, to or ("embload" if kind == "cache" else ""), str(rows)]
    if kind == "align":
        return ["cli", "align", src, "--word-index", str(source / "vocab.txt"), "--out", out, "--no-progress"]
    return ["cli", "convert", src, out, "--limit", str(rows), "--no-progress"] + (["--to", to] if to else [])


def temporary(folder):
    hidden = [name for name in os.listdir(folder) if name.startswith(".")]
    return os.path.join(folder, hidden[0]) if hidden else None


def reached(kind, moment, folder, lines):
    """Is the child's write at ``moment``?"""
    tmp = temporary(folder)
    if tmp is None:
        return False
    if moment == "early":
        return True
    fraction = FRACTION[moment]
    if kind not in ("cache", "align"):
        for line in list(lines):
            _, done, total = line.split()
            if fraction * int(total) <= int(done) < int(total):
                return True
        return False
    data = os.path.join(tmp, "matrix.npy") if kind == "cache" else tmp
    try:
        return os.path.getsize(data) >= fraction * KINDS[kind][2] * DIM * 4
    except OSError:   # not there yet, or just renamed
        return False


def interrupt(kind, signum, moment, source, out_dir, mode="cli"):
    """Run the child and signal it at ``moment``; return (returncode, stderr, sent)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *command(kind, source, out_dir, mode)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(kind, KINDS[kind][2]), cwd=str(out_dir))
    lines = []
    def read():
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = False
    while proc.poll() is None:
        if reached(kind, moment, str(out_dir), [line for line in lines if line.startswith("rows")]):
            proc.send_signal(signum)
            sent = True
            break
        time.sleep(0.001)
    try:
        err = proc.communicate(timeout=120)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    reader.join(10)
    return proc.returncode, err, sent


def put_old(kind, out_dir):
    """An existing destination, and a snapshot of its bytes."""
    dst = out_dir / KINDS[kind][0]
    if kind == "cache":
        embload.save((["old", "cache"], np.eye(2, dtype=np.float32)), dst, progress=False)
    else:
        dst.write_bytes(b"old destination\n" + os.urandom(1000))
    return snapshot(dst)


def snapshot(path):
    if not os.path.lexists(path):
        return None
    if os.path.isdir(path):
        return {name: (path / name).read_bytes() for name in sorted(os.listdir(path))}
    return path.read_bytes()


def run_case(kind, signum, moment, existing, source, tmp_path, mode):
    dst = tmp_path / KINDS[kind][0]
    for attempt in range(3):
        old = put_old(kind, tmp_path) if existing else None
        code, err, sent = interrupt(kind, signum, moment, source, tmp_path, mode)
        if code != 0 or not sent:
            break
        # the child was done before the signal came: undo its write and try again
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        elif os.path.exists(dst):
            os.unlink(dst)
    else:
        pytest.fail(f"the write always finished before the {moment} signal could be sent")
    assert sent, f"the child ended before the {moment} moment: {code}\n{err}"
    assert sorted(os.listdir(tmp_path)) == ([dst.name] if existing else []), err
    assert snapshot(dst) == old
    return code, err


@pytest.mark.parametrize("kind, signum, moment, existing", case_list())
def test_cli_interrupted(kind, signum, moment, existing, source, tmp_path):
    code, err = run_case(kind, signum, moment, existing, source, tmp_path, "cli")
    assert code == 128 + signum, err
    assert f"interrupted ({signal.Signals(signum).name})" in err


@pytest.mark.parametrize("kind, moment", [("gz", "late"), ("cache", "middle")])
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_library_dies_of_the_signal(kind, moment, signum, source, tmp_path):
    # the old destination is kept, the temporary removed, and the program still dies
    # of the signal (SIGINT: the KeyboardInterrupt that Python turns into that death)
    code, err = run_case(kind, signum, moment, True, source, tmp_path, "api")
    assert code == -signum, err
