"""docs/api.rst lists every name of the ``__all__`` of each module it documents."""

import importlib
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

#: names not in the tables: former names kept as aliases (said in prose), and
#: the version string
NOT_LISTED = {
    "alad": {"FeedbackDivergenceWarning", "FlowDivergenceWarning", "__version__"}
}


def _documented() -> dict[str, set[str]]:
    """Module -> the names of the autosummary tables under its currentmodule."""
    names: dict[str, set[str]] = {}
    module = None
    in_table = False
    for line in API.read_text().splitlines():
        found = re.match(r"\.\. currentmodule:: (\S+)", line)
        if found:
            module = found.group(1)
            names.setdefault(module, set())
        elif line.startswith(".. autosummary::"):
            in_table = True
        elif in_table and re.match(r"   [A-Za-z_]\w*$", line):
            names[module].add(line.strip())
        elif in_table and line and not line.startswith("   "):
            in_table = False
    return names


@pytest.mark.parametrize("module", sorted(_documented()))
def test_the_api_reference_lists_the_whole_public_api(module):
    listed = _documented()[module]
    public = set(importlib.import_module(module).__all__)
    assert public - listed - NOT_LISTED.get(module, set()) == set()
    assert listed - public == set()
