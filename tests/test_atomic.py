"""embload._atomic: a file or folder appears complete or not at all, on errors and signals.

The end-to-end signal cases (the command and the library interrupted from outside
while writing every output kind) are in test_signals.py; these are the mechanism's own.
"""

import os
import signal
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import embload
from embload import _atomic, write
from embload._atomic import Interrupted, atomic_dir, atomic_file, interrupt_on_signals

POSIX_SIGNALS = pytest.mark.skipif(os.name != "posix" or not hasattr(signal, "SIGHUP"), reason="POSIX signals")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def nothing_live():
    yield
    assert _atomic._live == {}


def listing(folder):
    return sorted(os.listdir(folder))


def umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- files -------------------------------------------------------------------------------
def test_file_appears_only_at_the_end(tmp_path):
    target = tmp_path / "out.bin"
    before = handlers()
    with atomic_file(target) as handle:
        handle.write(b"new")
        assert not target.exists()
        if hasattr(signal, "SIGHUP"):   # the library's handlers, for the write only
            assert handlers()[signal.SIGTERM] != signal.SIG_DFL
        [tmp] = listing(tmp_path)
        assert tmp.startswith(".out.bin.") and tmp.endswith(".tmp")
        assert _atomic._live == {str(tmp_path / tmp): "file"}
    assert target.read_bytes() == b"new"
    assert listing(tmp_path) == ["out.bin"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask()
    assert handlers() == before


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt, Interrupted(signal.SIGTERM)])
def test_file_error_keeps_the_old_one(tmp_path, exc):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(type(exc) if isinstance(exc, BaseException) else exc):
        with atomic_file(target) as handle:
            handle.write(b"new" * 1000)
            raise exc
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == ["out.bin"]


def test_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with atomic_file(target) as handle:
        handle.write(b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_file_refuses_a_folder_or_a_missing_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        with atomic_file(tmp_path):
            pass
    with pytest.raises(FileNotFoundError, match="folder to write into does not exist"):
        with atomic_file(tmp_path / "nowhere" / "x"):
            pass
    assert listing(tmp_path) == []


def fsync_recorder(monkeypatch):
    """Record what each os.fsync call flushes: ("file", name) or ("dir", name)."""
    synced = []
    real = os.fsync

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        synced.append((kind, os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_fsync_flushes_the_file_then_its_folder(tmp_path, monkeypatch):
    synced = fsync_recorder(monkeypatch)
    with atomic_file(tmp_path / "plain.bin") as handle:
        handle.write(b"x")
    assert synced == []
    with atomic_file(tmp_path / "durable.bin", fsync=True) as handle:
        handle.write(b"x")
    # the data under its temporary name before the rename, the folder after it
    assert [kind for kind, _ in synced] == ["file", "dir"]
    assert synced[0][1].startswith(".durable.bin.") and synced[1][1] == tmp_path.name


# --- folders -----------------------------------------------------------------------------
def test_folder_appears_only_at_the_end(tmp_path):
    target = tmp_path / "out.d"
    with atomic_dir(target) as folder:
        (open(os.path.join(folder, "a"), "wb")).close()
        assert not target.exists()
        assert os.path.basename(folder).startswith(".out.d.tmp-")
    assert listing(target) == ["a"]
    assert listing(tmp_path) == ["out.d"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~umask()


@pytest.mark.parametrize("exc", [OSError, KeyboardInterrupt])
def test_folder_error_keeps_the_old_one(tmp_path, exc):
    target = tmp_path / "out.d"
    target.mkdir()
    (target / "old").write_bytes(b"old")
    with pytest.raises(exc):
        with atomic_dir(target) as folder:
            with open(os.path.join(folder, "new"), "wb") as handle:
                handle.write(b"new")
            raise exc
    assert listing(tmp_path) == ["out.d"] and listing(target) == ["old"]


def test_folder_replaces_the_old_one_after_asking(tmp_path):
    target = tmp_path / "out.d"
    target.mkdir()
    target.chmod(0o750)
    (target / "old").write_bytes(b"old")
    asked = []
    with atomic_dir(target, check=asked.append) as folder:
        with open(os.path.join(folder, "new"), "wb") as handle:
            handle.write(b"new")
    assert asked == [str(target), str(target)]   # before starting and before the swap
    assert listing(tmp_path) == ["out.d"] and listing(target) == ["new"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_folder_check_can_refuse(tmp_path):
    def refuse(path):
        raise FileExistsError(path)

    (tmp_path / "mine").mkdir()
    with pytest.raises(FileExistsError):
        with atomic_dir(tmp_path / "mine", check=refuse):
            pass
    assert listing(tmp_path) == ["mine"]


def test_folder_check_at_swap_time(tmp_path):
    # something appeared at the target while the folder was being written
    target = tmp_path / "out.d"

    def refuse_if_there(path):
        if os.path.exists(path):
            raise FileExistsError(path)

    with pytest.raises(FileExistsError):
        with atomic_dir(target, check=refuse_if_there):
            target.mkdir()
            (target / "theirs").write_bytes(b"theirs")
    assert listing(tmp_path) == ["out.d"] and listing(target) == ["theirs"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_folder_fsync_flushes_every_file_and_both_folders(tmp_path, monkeypatch):
    synced = fsync_recorder(monkeypatch)
    embload.save((["a", "b"], np.eye(2, dtype=np.float32)), tmp_path / "c.embload", fsync=True)
    files = sorted(name for kind, name in synced if kind == "file")
    assert files == ["matrix.npy", "meta.json", "words.txt"]
    dirs = [name for kind, name in synced if kind == "dir"]
    assert dirs[0].startswith(".c.embload.tmp-") and dirs[1] == tmp_path.name
    assert embload.load(tmp_path / "c.embload").words == ["a", "b"]


# --- the registry ------------------------------------------------------------------------
def test_remove_live_temporaries_of_another_thread(tmp_path):
    started, release = threading.Event(), threading.Event()
    errors = []

    def write():
        try:
            with atomic_file(tmp_path / "f.bin") as handle, atomic_dir(tmp_path / "d"):
                handle.write(b"x")
                started.set()
                release.wait(10)
        except OSError as exc:   # its temporary is gone: the rename fails
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    assert started.wait(10)
    assert len(_atomic._live) == 2
    _atomic.remove_live_temporaries()
    assert listing(tmp_path) == [] and _atomic._live == {}
    release.set()
    thread.join(10)
    assert len(errors) == 1 and listing(tmp_path) == []


# --- signals -----------------------------------------------------------------------------
def handlers():
    return {signum: signal.getsignal(signum) for signum in _atomic.SIGNALS}


@POSIX_SIGNALS
def test_handlers_only_replace_defaults_and_come_back(monkeypatch):
    before = handlers()
    assert before[signal.SIGTERM] == signal.SIG_DFL and before[signal.SIGINT] is signal.default_int_handler
    mine = lambda signum, frame: None   # noqa: E731
    signal.signal(signal.SIGHUP, signal.SIG_IGN)   # as under nohup
    signal.signal(signal.SIGINT, mine)
    try:
        with interrupt_on_signals():
            inside = handlers()
            assert inside[signal.SIGHUP] == signal.SIG_IGN and inside[signal.SIGINT] is mine
            assert inside[signal.SIGTERM] not in (signal.SIG_DFL, signal.SIG_IGN)
        assert handlers()[signal.SIGTERM] == signal.SIG_DFL
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_handlers_untouched_outside_the_main_thread(tmp_path):
    seen = []

    def write():
        with atomic_file(tmp_path / "f") as handle:
            handle.write(b"x")
            seen.append(handlers())

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(10)
    assert seen == [handlers()]
    assert (tmp_path / "f").read_bytes() == b"x"


@POSIX_SIGNALS
@pytest.mark.parametrize("signum, exc", [(signal.SIGTERM, Interrupted), (signal.SIGHUP, Interrupted),
                                         (signal.SIGINT, KeyboardInterrupt)])
def test_signal_during_a_write_removes_the_temporary(tmp_path, signum, exc):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    before = handlers()
    with pytest.raises(exc) as info:
        with interrupt_on_signals() as signals:   # as the command line does
            with atomic_file(target) as handle:
                handle.write(b"new")
                os.kill(os.getpid(), signum)
                time.sleep(5)   # the handler raises in here
    assert type(info.value) is exc and signals.received == signum
    assert target.read_bytes() == b"old" and listing(tmp_path) == ["out.bin"]
    assert handlers() == before


@POSIX_SIGNALS
def test_signal_held_while_the_temporary_is_removed(tmp_path, monkeypatch):
    # a second signal must not cut the cleanup of the first failure short
    real_unlink = os.unlink

    def unlink_after_a_signal(path):
        os.kill(os.getpid(), signal.SIGHUP)
        real_unlink(path)

    monkeypatch.setattr(os, "unlink", unlink_after_a_signal)
    with pytest.raises(Interrupted) as info:
        with interrupt_on_signals():
            with atomic_file(tmp_path / "out.bin") as handle:
                handle.write(b"new")
                raise RuntimeError("disk full")
    assert info.value.signum == signal.SIGHUP
    assert isinstance(info.value.__context__, RuntimeError)
    assert listing(tmp_path) == []


@POSIX_SIGNALS
def test_signal_right_after_the_rename_finds_the_write_done(tmp_path, monkeypatch):
    real_replace = os.replace

    def replace_then_signal(src, dst):
        real_replace(src, dst)
        os.kill(os.getpid(), signal.SIGTERM)   # held until the write is recorded as done

    monkeypatch.setattr(os, "replace", replace_then_signal)
    with pytest.raises(Interrupted):
        with interrupt_on_signals():
            with atomic_file(tmp_path / "out.bin") as handle:
                handle.write(b"new")
    assert (tmp_path / "out.bin").read_bytes() == b"new" and listing(tmp_path) == ["out.bin"]


LIBRARY_CHILD = r"""
import os, signal, sys, time
from embload._atomic import atomic_file
if sys.argv[2] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with atomic_file(sys.argv[1]) as handle:
    handle.write(b"new")
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.5)
print("finished")
"""


@POSIX_SIGNALS
@pytest.mark.parametrize("disposition", ["default", "ignore"])
def test_library_redelivers_or_leaves_an_ignored_signal(tmp_path, disposition):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", LIBRARY_CHILD, str(target), disposition],
                          capture_output=True, text=True, env=env, timeout=60)
    if disposition == "default":
        # cleaned up, then killed by the signal as a program without embload would be
        assert done.returncode == -signal.SIGTERM and done.stdout == "", done.stderr
        assert target.read_bytes() == b"old"
    else:
        assert done.returncode == 0 and done.stdout == "finished\n", done.stderr
        assert target.read_bytes() == b"new"
    assert listing(tmp_path) == ["out.bin"]


# --- the writers' use of it --------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_compressors_fed_in_small_pieces(tmp_path, monkeypatch, suffix):
    # a compressor call holds off the signal handler: none may get a whole 16 MB part
    fed = []

    class Recorder:
        def __init__(self, stream):
            self.stream = stream

        def write(self, data):
            fed.append(len(data))
            return self.stream.write(data)

    class Pieces(_atomic.ChunkedWriter):
        def __init__(self, stream, size):
            super().__init__(Recorder(stream), size)

    monkeypatch.setattr(write, "COMPRESS_PIECE", 100)
    monkeypatch.setattr(write, "ChunkedWriter", Pieces)
    words = [f"w{i}" for i in range(300)]
    matrix = np.random.default_rng(1).standard_normal((300, 8)).astype(np.float32)
    path = tmp_path / f"v.vec{suffix}"
    embload.save((words, matrix), path, progress=False)
    plain = tmp_path / "v.vec"
    embload.save((words, matrix), plain, progress=False)
    assert max(fed) == 100 and sum(fed) == plain.stat().st_size
    back = embload.load(path, progress=False)
    assert back.words == words and np.array_equal(back.vectors, matrix)


def test_chunked_writer_gives_numpy_save_the_same_bytes(tmp_path):
    sizes = []

    class Sink:
        def __init__(self):
            self.data = bytearray()

        def write(self, data):
            sizes.append(len(data))
            self.data += data

    matrix = np.random.default_rng(2).standard_normal((300, 7)).astype(np.float32)
    np.save(tmp_path / "direct.npy", matrix, allow_pickle=False)
    sink = Sink()
    np.save(_atomic.ChunkedWriter(sink, 1000), matrix, allow_pickle=False)
    assert bytes(sink.data) == (tmp_path / "direct.npy").read_bytes()
    assert max(sizes) == 1000 and len(sizes) > matrix.nbytes // 1000
