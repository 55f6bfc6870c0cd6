"""The page's files ship with the package: no internet needed."""

from pathlib import Path

STATIC = Path(__file__).parents[2] / "alad" / "labelling" / "static"


def test_vendored_uplot_matches_its_readme():
    import hashlib

    folder = STATIC / "uplot"
    readme = (folder / "README.md").read_text()
    for name in ("uPlot.iife.min.js", "uPlot.min.css", "LICENSE"):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert f"{digest}  {name}" in readme


def test_the_page_loads_nothing_from_elsewhere():
    for name in ("index.html", "app.js", "app.css"):
        text = (STATIC / name).read_text()
        assert "http://" not in text and "https://" not in text, name
