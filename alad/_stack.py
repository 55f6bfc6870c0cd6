"""The ``stacklevel`` that makes a warning name the user's line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: the folder of the package: frames of files under it are alad's own
_PACKAGE = str(Path(__file__).resolve().parent) + os.sep


def outside_stacklevel() -> int:
    """``stacklevel`` for a ``warnings.warn`` in the function that calls this:
    the first frame outside alad, however deep inside alad (transaction
    wrappers, an augmentation round inside ``fit``) the warning is raised.
    (Python 3.12's ``skip_file_prefixes`` does this; alad supports 3.11.)"""
    frame = sys._getframe(1)  # the caller, which calls warnings.warn
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level
