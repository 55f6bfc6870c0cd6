"""Lazy re-exports for package ``__init__`` files (PEP 562 module ``__getattr__``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["lazy_dir", "lazy_getattr"]


def lazy_getattr(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports each public name on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str to str
        Public name -> module that defines it, relative to ``package``
        (``".detectors"``).

    Returns
    -------
    __getattr__ : callable
        Imports the module of a name in ``exports``, caches the attribute in
        the package's namespace and returns it; raises :class:`AttributeError`
        for any other name, as a module without ``__getattr__`` does.
    """

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        namespace = importlib.import_module(package).__dict__
        namespace[name] = value  # later lookups do not come here again
        return value

    return __getattr__


def lazy_dir(package: str, exports: dict[str, str]) -> Callable[[], list[str]]:
    """A module ``__dir__`` that lists the lazy names next to the loaded ones."""

    def __dir__() -> list[str]:
        namespace = importlib.import_module(package).__dict__
        return sorted(set(namespace) | set(exports))

    return __dir__
