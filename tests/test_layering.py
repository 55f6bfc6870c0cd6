"""The import arrows of the package stay one-way (STYLE.md, section 1)."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "alad"


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a file imports, relative imports resolved."""
    tree = ast.parse(path.read_text())
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join((*base, node.module) if node.module else base)
            else:
                module = node.module
            names.add(module)
    return names


def _files(folder: str):
    return sorted((PACKAGE / folder).glob("*.py"))


@pytest.mark.parametrize("path", _files("backbones") + _files("flows"), ids=str)
def test_models_import_torch_only(path):
    """backbones/ and flows/ are pure torch: no numpy, sklearn or skorch I/O."""
    allowed = ("torch", "zuko", "alad.backbones", "alad.flows")
    bad = {
        m
        for m in _imports(path)
        if not m.startswith(allowed) and m.split(".")[0] not in sys.stdlib_module_names
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("detectors"), ids=str)
def test_a_detector_never_imports_another(path):
    others = {f"alad.detectors.{p.stem}" for p in _files("detectors")} - {
        f"alad.detectors.{path.stem}"
    }
    if path.stem == "__init__":
        return
    assert not (_imports(path) & others)


@pytest.mark.parametrize(
    "layer",
    ["backbones", "flows", "training", "datasets", "metrics", "windows", "query"],
)
def test_lower_layers_never_import_detectors(layer):
    paths = _files(layer) if (PACKAGE / layer).is_dir() else [PACKAGE / f"{layer}.py"]
    for path in paths:
        bad = {
            m
            for m in _imports(path)
            if m.startswith(("alad.detectors", "alad.experiments"))
        }
        assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("__init__.py")), ids=str)
def test_init_files_only_re_export(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        ok = isinstance(node, (ast.Import, ast.ImportFrom, ast.Expr)) or (
            isinstance(node, ast.Assign)
            and all(
                isinstance(t, ast.Name) and t.id.startswith("__") for t in node.targets
            )
        )
        assert ok, f"{path}: line {node.lineno} is not an import or __all__"
