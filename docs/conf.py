"""Sphinx configuration of the alad documentation.

Build from the repository root, warnings as errors::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network (no intersphinx) and no GPU: the gallery examples
run on the CPU with tiny settings.
"""

import os
import re
import sys
from pathlib import Path

# Document the checkout this file belongs to, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Never touch a GPU while documenting, even on a machine that has one.
os.environ["CUDA_VISIBLE_DEVICES"] = ""
# The gallery runs in this process: plot without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

import alad  # noqa: E402

# The examples run inside this process. One intra-op thread makes their
# printed figures independent of the build machine's core count (PyTorch's
# CPU reductions depend on it) and is also the fastest for their tiny models,
# especially on a loaded machine.
torch.set_num_threads(1)

# -- Project information ------------------------------------------------------

project = "alad"
author = "The alad developers"
# A fixed string rather than the build date: same sources, same pages.
copyright = "The alad developers"
version = alad.__version__
release = alad.__version__

# -- General configuration ----------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
language = "en"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- autodoc / autosummary ----------------------------------------------------

# Pages of the API reference are generated into gen_modules/ (git-ignored)
# by the autosummary directives of api.rst, with the templates in
# _templates/autosummary/.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {
    "members": True,
    # Document what a detector inherits from the alad and scikit-learn bases
    # (predict, predict_proba, get_params, ...), but not the torch.nn.Module
    # methods of the backbones nor those of the exception and warning classes.
    "inherited-members": "Module, BaseException",
    "member-order": "groupwise",
    # scikit-learn's metadata-routing methods: generated, with docstrings that
    # link into scikit-learn's own user guide, and of no use with alad.
    "exclude-members": (
        "get_metadata_routing, set_fit_request, set_partial_fit_request, "
        "set_predict_request, set_predict_proba_request, set_score_request"
    ),
}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

# -- numpydoc -----------------------------------------------------------------

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery -----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # every examples/plot_*.py is executed
    "filename_pattern": re.escape(os.sep) + "plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    # a failing example fails the build
    "abort_on_example_error": True,
    # deterministic pages: no run times or memory figures in the output
    "write_computation_times": False,
    "show_memory": False,
    "min_reported_time": 10_000,
    # examples print what they want to show; the repr of a last expression
    # (e.g. "<Line2D object at 0x7f...>") would only add memory addresses
    "capture_repr": (),
    # link the names used in the examples to the API reference of this build
    "doc_module": ("alad",),
    "reset_modules": ("matplotlib",),
    "download_all_examples": False,
}

# -- HTML output --------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"alad {release}"
html_static_path = []
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
