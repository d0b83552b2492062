"""Build script: one list of extension modules, one dict of compiler directives.

Every ``embload/_*.pyx`` is an extension module; its C code lives in header-only
files under ``embload/src/`` (``static inline`` functions), so adding a module
never means editing this file.

Environment variables:
  EMBLOAD_DEBUG=1    turn bounds/wraparound/initialisation checks back on, -O0 -g
  EMBLOAD_OPENMP=0   build without OpenMP even when the compiler has it
  EMBLOAD_JOBS=N     compile with N parallel jobs (default: one per core)
  EMBLOAD_ONLY=a,b   build only these modules (e.g. ``_parse,_layer``) - for development
"""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DEBUG = os.environ.get("EMBLOAD_DEBUG", "0") == "1"
# Parallel jobs for cythonize and the C compiler (EMBLOAD_JOBS overrides; 1 = serial).
JOBS = int(os.environ.get("EMBLOAD_JOBS", "0")) or (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}


def openmp_flags():
    """Compile a tiny OpenMP program; return the flags if the compiler takes them.

    Like scikit-learn's ``_openmp_helpers``: the build must still work where
    the compiler has no OpenMP (Apple clang), and then ``prange`` runs serially.
    """
    if os.environ.get("EMBLOAD_OPENMP", "1") == "0":
        return [], []
    # the compiler setuptools will call: $CC when set (e.g. CC=clang for the fuzz build)
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return [], []
    source = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "omp_check.c")
        with open(path, "w") as handle:
            handle.write(source)
        result = subprocess.run(
            [compiler, "-fopenmp", path, "-o", os.path.join(tmp, "omp_check")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    if result.returncode == 0:
        return ["-fopenmp"], ["-fopenmp"]
    print("embload: compiler has no OpenMP; building single-threaded kernels", file=sys.stderr)
    return [], []


def extensions():
    compile_omp, link_omp = openmp_flags()
    optimise = ["-O0", "-g"] if DEBUG else ["-O3"]
    only = {name.strip() for name in os.environ.get("EMBLOAD_ONLY", "").split(",") if name.strip()}
    modules = []
    for pyx in sorted(glob.glob(os.path.join("embload", "_*.pyx"))):
        stem = os.path.splitext(os.path.basename(pyx))[0]
        if only and stem not in only:
            continue
        modules.append(
            Extension(
                "embload." + stem,
                [pyx],
                include_dirs=[np.get_include(), os.path.join("embload", "src")],
                # a changed header rebuilds every module: a stale .so once hid a module that
                # no longer compiled (it included a header that had been removed)
                depends=sorted(glob.glob(os.path.join("embload", "src", "*.h"))),
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
                extra_compile_args=optimise + compile_omp + ["-std=c99", "-fno-strict-aliasing"],
                extra_link_args=link_omp,
            )
        )
    return cythonize(modules, compiler_directives=COMPILER_DIRECTIVES, quiet=True, nthreads=JOBS)


class build_ext_parallel(build_ext):
    """Compile the extension modules in parallel (one per core) unless told otherwise:
    the C files are large (nine modules), and pip's builds otherwise use one core."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = JOBS


setup(ext_modules=extensions(), cmdclass={"build_ext": build_ext_parallel})
