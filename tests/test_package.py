"""The package's shape: every submodule imports, no submodule shadows an exported name,
and imports point one way along the data flow."""
import ast
import importlib
import os
import pkgutil
import subprocess
import sys

import numpy as np

import embload

PACKAGE_DIR = os.path.dirname(embload.__file__)

# Stages in data-flow order; a module may import (at module level or inside a function)
# only modules of its own stage or an earlier one. The only upward imports allowed are
# the result objects' convenience methods listed in CONVENIENCE (documented in their
# modules' docstrings).
STAGES = [
    {"errors", "_checks", "_threads", "_progress", "_atomic"},
    {"_source", "_fasttext", "formats", "options"},   # _fasttext: formats asks it whether bytes are a model
    {"_words", "vectors", "_conversions"},
    {"_parse", "wordtable", "cache", "fasttext"},
    {"read"},
    {"_write", "write"},
    {"text", "_text"},
    {"vocabulary", "_align", "align", "_similarity", "similarity"},
    {"conversion", "interop", "_layer", "layer", "optimizers", "dask"},
    {"demo", "cli", "__main__"},
]
CONVENIENCE = {
    # module -> upward imports it makes only inside methods of its result objects
    "vectors": {"align", "write", "interop", "similarity"},
    "align": {"interop"},
    "fasttext": {"align", "similarity"},
}


def _stage(name):
    for i, stage in enumerate(STAGES):
        if name in stage:
            return i
    raise AssertionError(f"embload.{name} is not placed in a stage of tests/test_package.py")


def _module_names():
    names = set()
    for info in pkgutil.iter_modules([PACKAGE_DIR]):
        names.add(info.name)
    return sorted(names)


def _imports_of(name):
    """Sibling modules that embload.<name> imports anywhere in its source."""
    for ext in (".py", ".pyx"):
        path = os.path.join(PACKAGE_DIR, name + ext)
        if os.path.exists(path):
            break
    else:
        return set()
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    if ext == ".pyx":
        # Cython syntax is not Python; module-level imports are plain lines
        found = set()
        for line in source.splitlines():
            line = line.strip()
            for prefix in ("from .", "from embload.", "cimport embload."):
                if line.startswith(prefix):
                    found.add(line[len(prefix):].split()[0].split(".")[0])
        return found - {"", "import"}
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1 and not node.module:
                found.update(alias.name for alias in node.names)
            elif node.level == 0 and node.module and node.module.startswith("embload."):
                found.add(node.module.split(".")[1])
    return found


def test_every_submodule_imports_and_exports_stay_functions():
    # import every submodule first: importing embload.<x> binds the package attribute x,
    # which must never replace an exported name (embload.convert was the module once)
    for name in _module_names():
        if name == "__main__":
            continue
        importlib.import_module(f"embload.{name}")
    for export in embload.__all__:
        if export == "__version__":
            continue
        value = getattr(embload, export)
        owner = importlib.import_module(embload._EXPORTS[export])
        assert value is getattr(owner, export), export
        assert not isinstance(value, type(embload)), f"embload.{export} is a module"
    names = set(_module_names())
    assert not names & set(embload.__all__), "a module is named like an exported name"


def test_import_direction():
    wrong = []
    for name in _module_names():
        mine = _stage(name)
        for target in _imports_of(name):
            if target in ("__version__",) or target not in set(_module_names()):
                continue
            if _stage(target) > mine and target not in CONVENIENCE.get(name, ()):
                wrong.append(f"{name} (stage {mine}) imports {target} (stage {_stage(target)})")
    assert not wrong, "imports must point down the data flow:\n" + "\n".join(wrong)


def test_no_import_cycles():
    names = set(_module_names())
    graph = {name: {t for t in _imports_of(name) if t in names and t not in CONVENIENCE.get(name, ())}
             for name in names}
    state = {}

    def visit(name, path):
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            cycle = path[path.index(name):] + [name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        state[name] = "open"
        for target in sorted(graph[name]):
            visit(target, path + [name])
        state[name] = "done"

    for name in sorted(names):
        visit(name, [])


def test_save_then_convert_in_a_fresh_interpreter(tmp_path):
    # the reported sequence: save imported the conversion module lazily, which rebound
    # embload.convert to a module and made the next call fail
    code = (
        "import numpy as np, embload, sys\n"
        "embload.save((['a', 'b'], np.eye(2, dtype=np.float32)), sys.argv[1] + '/x.vec')\n"
        "embload.convert(sys.argv[1] + '/x.vec', sys.argv[1] + '/y.txt', to='glove')\n"
        "print(open(sys.argv[1] + '/y.txt').read(), end='')\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(PACKAGE_DIR))
    assert out.stdout == "a 1.0 0.0\nb 0.0 1.0\n"
    assert np.array_equal(embload.load(tmp_path / "y.txt").vectors, np.eye(2, dtype=np.float32))
