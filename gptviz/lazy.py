"""Names a package imports when first used (PEP 562's module ``__getattr__``), so that importing the
package loads none of its heavy modules: ``gptviz`` and ``gptviz.viz`` use it."""

from __future__ import annotations

import importlib


def lazy_attributes(package: str, namespace: dict, modules: dict[str, str | None], public: list[str]):
    """``__getattr__`` and ``__dir__`` for ``package`` (its ``__name__``; ``namespace`` its ``globals()``).

    ``modules`` maps each lazy name to the submodule that defines it (``"load": "hub"``), or to None
    for a submodule that is itself the name (``"viz": None``). A name is imported on first use and then
    kept in ``namespace``, an ordinary attribute from there on; ``public`` is the package's ``__all__``.
    """

    def __getattr__(name: str):
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = modules[name]
        if module is None:
            return importlib.import_module(f".{name}", package)
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
