#!/usr/bin/env python
"""Coverage-guided fuzzing of embload's parsers with atheris (libFuzzer for Python).

    python scripts/fuzz.py load --seconds 60        # one target (names: --list)
    python scripts/fuzz.py --all --seconds 30       # every target in turn, one process at a time
    python scripts/fuzz.py --build-native           # once: a clang build whose C code reports coverage

The targets and their contract live in ``tests/fuzz_targets.py``. An input that breaks the
contract (an exception outside the allowed ones, a crash, a hang past ``--timeout``, memory
past ``--rss-mb``) is written by libFuzzer to ``tests/fuzz_corpus/<target>/`` (``crash-*``,
``timeout-*``, ``oom-*``): commit it; ``tests/test_fuzz.py`` replays every file there.
The growing working corpus lives in ``build/fuzz/<target>/`` (not committed), seeded from
``data/`` and from the kept inputs that pass.

Coverage of the C code: the ordinary build (gcc) reports coverage of the Python code only, so
the mutator is blind inside the parsers. ``--build-native`` copies ``embload/`` to
``build/fuzz-native/`` and compiles it with clang's ``-fsanitize-coverage`` (inline 8-bit
counters, comparison tracing); the fuzzer then uses that copy (about 40x more edges on the
text reader). It needs ``clang``; without it, or with ``--no-native``, the source tree is fuzzed.
"""
import argparse
import ctypes
import glob
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")
NATIVE = os.path.join(ROOT, "build", "fuzz-native")
WORK = os.path.join(ROOT, "build", "fuzz")
COVERAGE_FLAGS = "-fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp"


def build_native():
    """Copy the package to build/fuzz-native and compile it with clang's coverage counters."""
    if shutil.which("clang") is None:
        sys.exit("fuzz.py: --build-native needs clang (apt-get install clang)")
    shutil.rmtree(NATIVE, ignore_errors=True)
    os.makedirs(NATIVE)
    shutil.copytree(os.path.join(ROOT, "embload"), os.path.join(NATIVE, "embload"),
                    ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__", "data"))
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(os.path.join(ROOT, name), NATIVE)
    env = dict(os.environ, CC="clang", LDSHARED="clang -shared", CFLAGS=COVERAGE_FLAGS,
               LDFLAGS=COVERAGE_FLAGS)
    subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"], cwd=NATIVE, env=env,
                   check=True)
    _link_python()
    print(f"fuzz.py: instrumented build in {NATIVE}")


def _link_python():
    """The copy's .py files become links to the source tree's: only the C needs a rebuild."""
    for source in glob.glob(os.path.join(ROOT, "embload", "*.py")):
        link = os.path.join(NATIVE, "embload", os.path.basename(source))
        if os.path.islink(link) and os.readlink(link) == source:
            continue
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(source, link)


def _registry():
    for folder in (ROOT, TESTS):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    import fuzz_targets

    return fuzz_targets


def _prepare_corpus(name, registry, work):
    """The working corpus: the seeds from data/ and every kept input that now passes."""
    os.makedirs(work, exist_ok=True)
    inputs = list(registry.SEEDS[name]())
    for path in registry.corpus_files(name):
        data = path.read_bytes()
        try:
            registry.check(name, data)
        except Exception:  # still failing: replaying it would stop the run at once
            print(f"fuzz.py: {path} still fails; not used as a seed", file=sys.stderr)
            continue
        inputs.append(data)
    for data in inputs:
        with open(os.path.join(work, hashlib.sha1(data).hexdigest()), "wb") as handle:
            handle.write(data)
    return work


def run_one(name, args):
    """Fuzz one target in this process (libFuzzer exits the process when done)."""
    import atheris

    use_native = not args.no_native and glob.glob(os.path.join(NATIVE, "embload", "_parse*.so"))
    if use_native:
        _link_python()
    sys.path.insert(0, NATIVE if use_native else ROOT)
    registry = None

    def first_input_setup():
        # The instrumented extension modules call libFuzzer's __sanitizer_cov_* when they
        # load; atheris loads its libFuzzer core privately when Fuzz() starts, so it is made
        # global here, inside the first run, before embload is imported.
        nonlocal registry
        core = glob.glob(os.path.join(os.path.dirname(atheris.__file__), "core_with_libfuzzer*.so"))
        if use_native and core:
            ctypes.CDLL(core[0], mode=os.RTLD_GLOBAL | os.RTLD_NOLOAD)
        with atheris.instrument_imports(include=["embload"]):
            import embload

            for module in sorted(set(embload._EXPORTS.values())) + ["embload.cache", "embload.conversion"]:
                importlib.import_module(module)
        registry = _registry()
        assert os.path.dirname(embload.__file__).startswith(NATIVE if use_native else ROOT)

    def one_input(data):
        if registry is None:
            first_input_setup()
        registry.check(name, data)

    kept = os.path.join(args.keep, name)
    work = os.path.join(args.work, name)
    # in another process: embload must not be imported here before libFuzzer runs
    # (it also checks the name)
    prepared = subprocess.run([sys.executable, os.path.abspath(__file__), name, "--prepare-only",
                               f"--work={args.work}"])
    if prepared.returncode != 0:
        return prepared.returncode
    os.makedirs(kept, exist_ok=True)
    libfuzzer_args = [
        sys.argv[0], work,
        f"-max_total_time={args.seconds}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_mb}",
        f"-max_len={args.max_len}",
        f"-artifact_prefix={kept}{os.sep}",
        "-print_final_stats=1",
    ]
    print(f"fuzz.py: {name} for {args.seconds} s ({'clang-instrumented C' if use_native else 'Python-only coverage'})",
          file=sys.stderr, flush=True)
    atheris.Setup(libfuzzer_args, one_input)
    atheris.Fuzz()


def replay(names, args):
    """Every input of the working and kept corpora, once, in this process."""
    registry = _registry()
    failed = 0
    for name in names:
        files = sorted(glob.glob(os.path.join(args.work, name, "*"))) + [str(p) for p in registry.corpus_files(name)]
        started = time.monotonic()
        for path in files:
            with open(path, "rb") as handle:
                data = handle.read()
            try:
                registry.check(name, data)
            except Exception as exc:  # the contract is broken: report and go on
                failed += 1
                print(f"fuzz.py: {name}: {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"fuzz.py: {name}: replayed {len(files)} inputs in {time.monotonic() - started:.1f} s",
              file=sys.stderr, flush=True)
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", help="a name from tests/fuzz_targets.py (see --list)")
    parser.add_argument("--all", action="store_true", help="every target in turn")
    parser.add_argument("--list", action="store_true", help="print the target names")
    parser.add_argument("--seconds", type=int, default=60, help="per target (default: 60)")
    parser.add_argument("--timeout", type=int, default=10,
                        help="seconds after which one input counts as a hang (default: 10)")
    parser.add_argument("--rss-mb", type=int, default=2048, help="memory limit (default: 2048)")
    parser.add_argument("--max-len", type=int, default=16384, help="longest input (default: 16384)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="with --all: go through the targets this many times (default: 1)")
    parser.add_argument("--build-native", action="store_true",
                        help="(re)build the clang-instrumented copy in build/fuzz-native and exit")
    parser.add_argument("--no-native", action="store_true", help="fuzz the source tree's build")
    parser.add_argument("--work", default=WORK,
                        help="folder of the growing working corpora (default: build/fuzz)")
    parser.add_argument("--keep", default=os.path.join(TESTS, "fuzz_corpus"),
                        help="where failing inputs are written (default: tests/fuzz_corpus)")
    parser.add_argument("--replay", action="store_true",
                        help="no fuzzing: run every input of the working and kept corpora of TARGET "
                             "(or --all) once, e.g. under AddressSanitizer; exit 1 if any breaks the contract")
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_native:
        build_native()
        return 0
    if args.replay:
        return replay([args.target] if args.target and not args.all else list(_registry().TARGETS), args)
    if args.target and not args.all and not args.list:
        if args.prepare_only:
            registry = _registry()
            if args.target not in registry.TARGETS:
                parser.error(f"unknown target {args.target!r}; targets: {', '.join(registry.TARGETS)}")
            _prepare_corpus(args.target, registry, os.path.join(args.work, args.target))
            return 0
        # embload is imported only once libFuzzer runs (see run_one)
        return run_one(args.target, args)
    names = list(_registry().TARGETS)
    if args.list:
        print("\n".join(names))
        return 0
    if not args.all:
        parser.error("give a TARGET, --all or --list")
    if args.all:
        # one process per target (libFuzzer ends its process), one at a time
        failed = []
        for _ in range(args.rounds):
            for name in names:
                command = [sys.executable, os.path.abspath(__file__), name, f"--seconds={args.seconds}",
                           f"--timeout={args.timeout}", f"--rss-mb={args.rss_mb}",
                           f"--max-len={args.max_len}", f"--work={args.work}", f"--keep={args.keep}"]
                command += ["--no-native"] if args.no_native else []
                started = time.monotonic()
                code = subprocess.call(command)
                print(f"fuzz.py: {name}: exit {code} after {time.monotonic() - started:.0f} s",
                      file=sys.stderr, flush=True)
                if code != 0:
                    failed.append(name)
        if failed:
            print(f"fuzz.py: contract broken by: {', '.join(failed)} (inputs in tests/fuzz_corpus/)",
                  file=sys.stderr)
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
