"""Atomic writes: a file or folder appears at its path complete, or not at all.

``atomic_file(path)`` and ``atomic_dir(path)`` are context managers that hand out a
temporary next to the target (same folder, so the final rename stays on one file
system) and rename it over the target when the ``with`` block ends without an
exception. On any exception, KeyboardInterrupt included, the temporary is removed and
an existing target is left byte for byte as it was::

    with atomic_file("vectors.bin", fsync=True) as handle:   # a binary file object
        handle.write(data)
    with atomic_dir("glove.embload", check=refuse_foreign) as folder:   # a folder path
        write_files_into(folder)

Durability (``fsync=True``): the data is flushed to the disk before the rename, and
the folder holding the target after it, so that after a power cut the path holds the
old or the new content, never a file of the right size full of zeros.

Signals. Ctrl-C raises KeyboardInterrupt and the unwinding removes the temporary; the
default action of SIGTERM and SIGHUP (a batch scheduler's time limit, ``docker stop``,
a closed terminal) would kill the process on the spot and leave the temporary behind.
So, while a write is in progress, SIGTERM and SIGHUP raise :class:`Interrupted` (a
KeyboardInterrupt) instead, and SIGINT its KeyboardInterrupt as usual (through our
handler, which can hold it in a critical section, see below):

- the command line (``embload.cli.main``) installs the handlers for its whole run
  (:func:`interrupt_on_signals`) and exits with status 128 + the signal number;
- a Python program calling ``embload.save``, ``convert``... gets them installed by
  ``atomic_file``/``atomic_dir`` for the time of the write only, and only for the
  signals whose disposition is still the default one (SIG_DFL for SIGTERM/SIGHUP,
  Python's own handler for SIGINT), and only in the main thread (Python runs signal
  handlers there alone). Once the temporary is gone the old disposition is restored
  and a SIGTERM or SIGHUP is sent again, so the process still dies of that signal, as
  it would have without embload; a SIGINT stays a KeyboardInterrupt. A program with
  handlers of its own keeps them; a write from another thread cannot be protected
  (the signal kills the process with the temporary left).

A Python signal handler runs in the main thread between two bytecodes: a long call
into C that does not return (one huge ``write``, compressing a big buffer) delays it.
The writers therefore hand data on in bounded pieces (:class:`ChunkedWriter`: the
compressors get ``writers.COMPRESS_PIECE`` bytes a call, ``numpy.save`` 16 MiB; rows are
formatted in parts), and the waits on worker threads are interruptible lock waits.

Renaming and removing temporaries are critical sections (:func:`_critical`): a signal
that arrives there is held until the section ends, so that a second signal cannot
interrupt the cleanup of the first, and a signal cannot fall between "the target is
replaced" and "the write is recorded as done". A signal arriving after the rename finds
the new target complete; it then only ends the process.

Live temporaries are kept in a registry; :func:`remove_live_temporaries` removes those
of every thread (the CLI and the re-delivery above call it just before the process
ends, for writes that another thread had in progress).
"""

import errno
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import uuid

__all__ = ["atomic_file", "atomic_dir", "ChunkedWriter", "Interrupted", "interrupt_on_signals",
           "remove_live_temporaries"]

# The signals that end a write; each raises an exception while one is in progress.
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

# Replacing a large file frees its storage inside the rename when the rename drops its
# last link (scripts/bench_write.py). Holding the old file
# open across the rename and closing it in a helper thread moves that work off the
# caller's path; the new file is in place either way.
RELEASE_IN_BACKGROUND_BYTES = 64 * 1024 * 1024


class Interrupted(KeyboardInterrupt):
    """A write was interrupted by the signal ``signum`` (SIGTERM or SIGHUP).

    A KeyboardInterrupt, so that ``except Exception`` does not swallow it and code that
    already handles Ctrl-C handles the other two alike. SIGINT raises a plain
    KeyboardInterrupt, as always (Python ends a program that does not catch it by
    SIGINT, which it does for that exact class only).
    """

    def __init__(self, signum):
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def _exception_for(signum):
    return KeyboardInterrupt() if signum == signal.SIGINT else Interrupted(signum)


# --- temporaries ---------------------------------------------------------------------------
_live = {}                      # temporary path -> "file" | "dir"
_live_lock = threading.Lock()


def _remove(tmp, kind):
    if kind == "dir":
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    with _live_lock:
        _live.pop(tmp, None)


def remove_live_temporaries():
    """Remove the temporaries of every write in progress, in any thread.

    For a process about to end: a write that another thread still has open loses its
    temporary (and will fail if it goes on).
    """
    with _critical():
        with _live_lock:
            live = list(_live.items())
        for tmp, kind in live:
            _remove(tmp, kind)


# --- signals -------------------------------------------------------------------------------
_local = threading.local()      # .depth: critical sections entered; .pending: a held signal


class _critical:
    """Hold our signal handlers' exceptions until the block ends (see the module docstring).

    A signal that arrived inside is raised at the end, unless a KeyboardInterrupt is already
    propagating (the process is ending for the first signal).
    """

    def __enter__(self):
        _local.depth = getattr(_local, "depth", 0) + 1

    def __exit__(self, exc_type, exc, tb):
        _local.depth -= 1
        pending = getattr(_local, "pending", None)
        if _local.depth == 0 and pending is not None:
            _local.pending = None
            # inside an __exit__ or except block, the exception being handled is there
            if not isinstance(exc if exc is not None else sys.exc_info()[1], KeyboardInterrupt):
                raise _exception_for(pending)
        return False


def _raise_interrupted(signum, frame):
    """The handler: raise KeyboardInterrupt or Interrupted, or hold the signal inside a
    critical section."""
    if getattr(_local, "depth", 0):
        if getattr(_local, "pending", None) is None:
            _local.pending = signum
        return
    raise _exception_for(signum)


def _is_default(signum, handler):
    return handler == signal.SIG_DFL or (signum == signal.SIGINT and handler is signal.default_int_handler)


class interrupt_on_signals:
    """Make SIGINT raise KeyboardInterrupt, SIGTERM and SIGHUP :class:`Interrupted`,
    inside the block.

    Only signals whose handler is the default one are taken over (an ignored SIGHUP under
    ``nohup`` stays ignored, a program's own handler stays), only in the main thread
    (elsewhere this does nothing), and the previous handlers come back at the end.

    ``redeliver=True`` (the library's writes): when the block ends with an Interrupted
    from these handlers (or one of them caught a signal while they were being restored)
    for a signal whose default action ends the process (SIGTERM, SIGHUP), the signal is
    sent again once the old handlers are back, so the process dies of it as it would
    have without us. ``redeliver=False`` (the CLI): the exception propagates.
    ``received`` is the first signal number seen, or None.
    """

    def __init__(self, *, redeliver=False):
        self.redeliver = redeliver
        self.received = None
        self._saved = {}

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in SIGNALS:
            try:
                previous = signal.getsignal(signum)
            except ValueError:
                continue
            if _is_default(signum, previous):
                self._saved[signum] = previous   # first: restored even if a signal comes between
                try:
                    signal.signal(signum, self._handle)
                except ValueError:   # not the main interpreter
                    del self._saved[signum]
        return self

    def _handle(self, signum, frame):
        if self.received is None:
            self.received = signum
        _raise_interrupted(signum, frame)

    def __exit__(self, exc_type, exc, tb):
        saved, self._saved = self._saved, {}
        signum = exc.signum if isinstance(exc, Interrupted) else None
        if self._redelivers(signum, saved):
            remove_live_temporaries()   # still under our handlers: a second signal waits
        # Restore the handlers with signals held: one arriving half way must not leave some
        # of ours installed. A signal held there is handled as if it had ended the block.
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            for number, previous in saved.items():
                signal.signal(number, previous)
        finally:
            _local.depth -= 1
            held = None
            if _local.depth == 0:
                held, _local.pending = getattr(_local, "pending", None), None
        if signum is None and held is not None:
            signum = held
            if self._redelivers(signum, saved):
                remove_live_temporaries()
        if self._redelivers(signum, saved):
            os.kill(os.getpid(), signum)   # with SIG_DFL back: the process ends here
        if held is not None and not isinstance(exc, KeyboardInterrupt):
            raise _exception_for(held)
        return False

    def _redelivers(self, signum, saved):
        # only a signal these handlers caught, whose default action ends the process
        return (self.redeliver and signum is not None and signum == self.received
                and signum != signal.SIGINT and saved.get(signum) == signal.SIG_DFL)


# --- the protocol both share -------------------------------------------------------------
def check_destination(path, kind="file"):
    """Raise what ``atomic_file(path)`` (``kind="file"``) or ``atomic_dir(path)`` (``"dir"``)
    would refuse on entry: a missing folder to write into, a folder where a file goes.
    For callers with long work before the write (reading the source), to fail first."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, "the folder to write into does not exist", folder)
    if kind == "file" and os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name to write", path)


class _AtomicWrite:
    """Make the temporary (``_create``), hand it out, then ``_commit`` or ``_discard`` it;
    the signal handlers are in place from before the temporary exists until after it is
    gone. Subclasses keep ``self._tmp`` set exactly while the temporary exists."""

    def __init__(self, path, fsync):
        self.path = os.fspath(path)
        self.fsync = fsync
        self._tmp = None
        self._signals = interrupt_on_signals(redeliver=True)

    def __enter__(self):
        self._check()
        try:
            self._signals.__enter__()
            with _critical():   # no signal between making the temporary and registering it
                given = self._create()
                with _live_lock:
                    _live[self._tmp] = self._KIND
        except BaseException as exc:
            self._discard()
            self._signals.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return given

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._commit()
            else:
                self._discard()
        except BaseException as error:
            self._discard()
            self._signals.__exit__(type(error), error, error.__traceback__)
            raise
        self._signals.__exit__(exc_type, exc, tb)
        return False

    def _check(self):
        """Refuse the write before any temporary exists."""
        check_destination(self.path, self._KIND)

    def _replaced(self):
        """Called inside the critical section, right after the rename: the write is done."""
        with _live_lock:
            _live.pop(self._tmp, None)
        self._tmp = None

    def _discard(self):
        with _critical():
            self._close()
            if self._tmp is not None:
                _remove(self._tmp, self._KIND)
                self._tmp = None

    def _close(self):
        pass


class ChunkedWriter:
    """``write(data)`` to ``stream`` in calls of at most ``size`` bytes.

    A call into C that takes long (xz compressing a 16 MB part) holds off a signal's
    handler, and with it the cleanup of an interrupted write, until it returns. Also makes
    ``numpy.save`` write in 16 MiB chunks instead of one ``tofile`` of the whole array (it
    does so for any object that is not a real file).
    """

    def __init__(self, stream, size):
        self._stream = stream
        self._size = size

    def write(self, data):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), self._size):
            self._stream.write(view[start:start + self._size])
        return len(view)


# --- files ---------------------------------------------------------------------------------
class atomic_file(_AtomicWrite):
    """``with atomic_file(path) as handle:`` a binary file that becomes ``path`` at the end.

    Parameters
    ----------
    path : str or os.PathLike
        The target file. Its folder must exist; a folder at ``path`` is refused.
    fsync : bool, default False
        Flush the data to the disk before the rename, and the folder after it.

    The new file gets the permissions of the file it replaces (or, for a new file, what
    ``open`` would give: 0o666 less the umask). A replaced file of
    ``RELEASE_IN_BACKGROUND_BYTES`` or more is closed in a helper thread (see there).
    """

    _KIND = "file"

    def __init__(self, path, *, fsync=False):
        super().__init__(path, fsync)
        self._handle = None

    @property
    def temporary(self):
        """The temporary's path while the ``with`` block runs, for a writer that takes a
        file name rather than a file object (it opens the path again and writes there)."""
        return self._tmp

    def _create(self):
        fd, self._tmp = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".", suffix=".tmp",
                                         dir=os.path.dirname(os.path.abspath(self.path)))
        self._handle = os.fdopen(fd, "wb")
        return self._handle

    def _commit(self):
        self._handle.flush()
        if self.fsync:
            os.fsync(self._handle.fileno())
        self._handle.close()
        os.chmod(self._tmp, _mode_for(self.path))
        with _critical():
            old = _hold_replaced(self.path)
            try:
                os.replace(self._tmp, self.path)
                self._replaced()
            finally:
                _release_in_background(old)
        if self.fsync:
            _fsync_folder(os.path.dirname(os.path.abspath(self.path)))

    def _close(self):
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:   # the flush of a failing disk; the file goes anyway
                pass


def _hold_replaced(path):
    """A descriptor of the large regular file ``path`` is about to replace, or None."""
    if os.name != "posix":   # elsewhere an open file cannot be replaced
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size >= RELEASE_IN_BACKGROUND_BYTES:
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _release_in_background(fd):
    if fd is not None:
        try:
            threading.Thread(target=os.close, args=(fd,), name="embload-release", daemon=True).start()
        except BaseException:
            os.close(fd)
            raise


def _mode_for(path, default=0o666):
    """The permissions of what is at ``path``, or what a new one would get (``default``
    less the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return default & ~mask


def _fsync_folder(folder):
    """Make the renames in ``folder`` durable (POSIX; elsewhere a folder cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- folders -------------------------------------------------------------------------------
class atomic_dir(_AtomicWrite):
    """``with atomic_dir(path) as folder:`` a new empty folder that becomes ``path`` at the end.

    Parameters
    ----------
    path : str or os.PathLike
        The target folder; its parent must exist.
    fsync : bool, default False
        Flush every file written into the folder, the folder itself and then its parent
        to the disk, before and after the rename.
    check : callable, optional
        ``check(path)`` raises if what is at ``path`` must not be replaced; called before
        the temporary is made and again just before the swap (another process may have
        put something there meanwhile).

    The swap of an existing target is two renames (old aside, new in), then the old one
    is removed, all in one critical section: only a process killed with SIGKILL between
    them leaves the old folder under a hidden ``.NAME.old-*`` name; ``path`` never holds
    half a folder. The new folder gets the permissions of the one it replaces (or 0o777
    less the umask).
    """

    _KIND = "dir"

    def __init__(self, path, *, fsync=False, check=None):
        super().__init__(path, fsync)
        self.check = check

    def _check(self):
        super()._check()
        if self.check is not None:
            self.check(self.path)

    def _create(self):
        parent, name = os.path.split(os.path.abspath(self.path))
        tmp = os.path.join(parent, f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.mkdir(tmp)
        self._tmp = tmp
        return tmp

    def _commit(self):
        parent = os.path.dirname(os.path.abspath(self.path))
        if self.fsync:
            for root, _, files in os.walk(self._tmp):
                for name in files:
                    fd = os.open(os.path.join(root, name), os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                _fsync_folder(root)
        os.chmod(self._tmp, _mode_for(self.path, 0o777))
        with _critical():
            self._swap(parent)
            self._replaced()
        if self.fsync:
            _fsync_folder(parent)

    def _swap(self, parent):
        if not os.path.lexists(self.path):
            try:
                os.rename(self._tmp, self.path)
                return
            except OSError as exc:
                # something was put there meanwhile (two runs building the same cache)
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        if self.check is not None:
            self.check(self.path)
        old = os.path.join(parent, f".{os.path.basename(os.path.abspath(self.path))}.old-{uuid.uuid4().hex[:8]}")
        os.rename(self.path, old)
        try:
            os.rename(self._tmp, self.path)
        except BaseException:
            os.rename(old, self.path)
            raise
        shutil.rmtree(old, ignore_errors=True)
