"""The one table writer of the reports: markdown or reStructuredText list-tables."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["render_table"]


def render_table(
    header: Sequence[str],
    body: Sequence[Sequence[str]],
    fmt: str = "rst",
    *,
    title: str | None = None,
) -> str:
    """A table of strings as markdown or as an RST ``list-table``.

    Parameters
    ----------
    header : sequence of str
        The column names.
    body : sequence of sequences of str
        The rows, each as long as ``header``.
    fmt : {"rst", "markdown"}, default="rst"
    title : str or None, default=None
        The list-table's title (RST), or a ``###`` heading above the table
        (markdown).

    Returns
    -------
    text : str
        The lines of the table, without a final newline. An empty RST cell is
        written ``-`` alone, without a trailing space.

    Examples
    --------
    >>> print(render_table(["a", "b"], [["1", ""]]))
    .. list-table::
       :header-rows: 1
    <BLANKLINE>
       * - a
         - b
       * - 1
         -
    """
    if fmt == "markdown":
        lines = [f"### {title}", ""] if title else []
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    if fmt != "rst":
        raise ValueError(f"fmt must be 'rst' or 'markdown', got {fmt!r}.")
    lines = [".. list-table::" + (f" {title}" if title else ""), "   :header-rows: 1"]
    lines.append("")
    for cells in [header, *body]:
        lines.append(f"   * - {cells[0]}" if cells[0] else "   * -")
        lines += [f"     - {cell}" if cell else "     -" for cell in cells[1:]]
    return "\n".join(lines)
