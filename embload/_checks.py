"""Argument checks shared by every public function: one rule per kind of argument.

Each check returns the normalised value or raises ``TypeError`` (wrong kind) or
``ValueError`` (right kind, bad value) with a message naming the argument. NumPy
integers count as ints everywhere (``limit=np.int64(5)``); ``bool`` never does.
"""

import codecs

import numpy as np

__all__ = ["DTYPES", "check_dtype", "check_count", "check_errors", "check_progress",
           "check_member", "is_int"]

# The value types a matrix is read into, stored in and written from.
DTYPES = ("float32", "float16", "float64")


def is_int(value):
    """A Python or NumPy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_dtype(value, name="dtype"):
    """The NumPy name (``"float32"``, ...) of one of :data:`DTYPES`, given in any spelling
    NumPy accepts (``np.float16``, ``"f4"``, a dtype)."""
    try:
        dtype_name = np.dtype(value).name
    except TypeError:
        raise ValueError(f"{name} must be one of {DTYPES}, not {value!r}") from None
    if dtype_name not in DTYPES:
        raise ValueError(f"{name} must be one of {DTYPES}, not {value!r}")
    return dtype_name


def check_count(value, name, *, minimum=0, allow_none=True):
    """An int ``>= minimum`` (a limit, a number of rows), or None where allowed."""
    if value is None and allow_none:
        return None
    if not is_int(value):
        what = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {what}, not {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {value}")
    return value


def check_errors(value):
    """A registered ``bytes.decode`` error handler name ("strict", "replace", ...)."""
    if not isinstance(value, str):
        raise TypeError(f"errors must be a str such as 'strict' or 'replace', not {type(value).__name__}")
    try:
        codecs.lookup_error(value)
    except LookupError:
        raise ValueError(f"errors={value!r} is not a registered error handler "
                         f"(use 'strict', 'replace', 'ignore', 'backslashreplace', ...)") from None
    return value


def check_progress(value):
    """True, False or None (None: on for large work when stderr is a terminal)."""
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"progress must be True, False or None, not {value!r}")
    return value


def check_member(value):
    """The name of a zip archive's member, or None."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"member must be a str (a name in the zip archive), not {type(value).__name__}")
    return value
