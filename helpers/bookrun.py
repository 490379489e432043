"""Execute the book's chapters (``python -m helpers.bookrun``), the first half of ``make book``.

The chapters are MyST Markdown notebooks, ``book/NN_name.md`` (a jupytext header, ``{code-cell}``
blocks, one cell tagged ``parameters``); they are the only committed chapter sources and open as
notebooks in JupyterLab with jupytext. For each chapter this runner

1. reads it with jupytext,
2. executes it with papermill in a fresh kernel, in the chapter's folder, with the parameters
   ``profile`` and ``device`` (and any others given) injected after its ``parameters`` cell,
3. tags the injected cell ``remove-cell`` (the book shows the chapter's own defaults, not a
   second cell of overrides), and
4. writes the executed ``.ipynb`` into the output folder, from which Jupyter Book builds the
   HTML pages; readers download these executed notebooks from the pages.

A chapter without a ``parameters`` cell, or one whose cell raises, fails the run: the exit status
is 1 and the message names the chapter and the failing cell. Build tooling only: nothing in
:mod:`helpers` imports this module.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat

__all__ = [
    "chapter_parameters",
    "execute_chapter",
    "execute_chapters",
    "has_parameters_cell",
    "main",
    "parse_parameter",
    "read_chapter",
]

#: Tag papermill gives the cell it injects, and the tag that keeps a cell out of the book.
INJECTED_TAG = "injected-parameters"
HIDDEN_TAG = "remove-cell"


def read_chapter(path: str | os.PathLike) -> nbformat.NotebookNode:
    """A chapter (MyST Markdown, or any format jupytext reads) as an nbformat notebook."""
    nb = jupytext.read(Path(path))
    nb.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb


def has_parameters_cell(nb: nbformat.NotebookNode) -> bool:
    """Whether a code cell of ``nb`` is tagged ``parameters`` (papermill injects after it)."""
    return any(
        "parameters" in c.get("metadata", {}).get("tags", [])
        for c in nb.cells
        if c.cell_type == "code"
    )


def chapter_parameters(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The names a chapter's ``parameters`` cell assigns, with the source of their defaults."""
    out: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        out[target.id] = ast.unparse(node.value)
    return out


def parse_parameter(text: str) -> tuple[str, object]:
    """Split ``NAME=VALUE`` from the command line into the name and the value.

    VALUE is read as a Python literal (``0.2``, ``[0, 1]``, ``None``), or else kept as a string
    (``k=12`` gives 12, ``name=my data`` gives ``'my data'``).
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"--param {text!r}: expected NAME=VALUE, for example k=12")
    try:
        return name, ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return name, value.strip()


def _hide_injected(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if INJECTED_TAG in tags and HIDDEN_TAG not in tags:
            cell.metadata["tags"] = [*tags, HIDDEN_TAG]


def execute_chapter(chapter: Path, target: Path, parameters: dict) -> nbformat.NotebookNode:
    """Execute one chapter into ``target`` (an ``.ipynb``); papermill's errors propagate."""
    import papermill as pm  # imported here: it starts slowly and only execution needs it

    nb = read_chapter(chapter)
    if not has_parameters_cell(nb):
        raise ValueError(f"{chapter}: no code cell tagged 'parameters'; every chapter needs one")
    executed = pm.execute_notebook(
        nb,
        str(target),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(chapter.parent),
        progress_bar=False,
        log_output=False,
    )
    _hide_injected(executed)
    nbformat.write(executed, target)
    return executed


def execute_chapters(
    chapters: list[Path], out_dir: Path, parameters: dict, overrides: dict | None = None
) -> int:
    """Execute every chapter into ``out_dir``; return 0, or 1 when any of them failed.

    ``parameters`` go to every chapter; each of ``overrides`` only to the chapters whose
    ``parameters`` cell defines it (a name that no chapter defines is an error, raised before
    anything runs), so that ``k=12`` changes the chapters that have a ``k`` and no others.
    """
    import papermill as pm

    overrides = dict(overrides or {})
    defined = {Path(c): chapter_parameters(read_chapter(c)) for c in chapters}
    unknown = sorted(n for n in overrides if not any(n in names for names in defined.values()))
    if unknown:
        raise ValueError(
            f"parameter(s) {unknown} are defined by none of the chapters' parameters cells "
            f"({', '.join(sorted({n for names in defined.values() for n in names}))})"
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    # A global MPLBACKEND (e.g. Agg on a headless CI) would replace the kernels' inline backend
    # and silently drop every figure from the book.
    os.environ.pop("MPLBACKEND", None)
    # Kernels run in the chapter's folder: a relative data or cache folder given here means one
    # relative to where the build was started, so pass it on as an absolute path.
    for var in ("STGCN_DATA_DIR", "STGCN_CACHE_DIR"):
        value = os.environ.get(var)
        if value and not os.path.isabs(os.path.expanduser(value)):
            os.environ[var] = os.path.abspath(os.path.expanduser(value))
    failures = []
    for chapter in map(Path, chapters):
        target = out_dir / f"{chapter.stem}.ipynb"
        given = {**parameters, **{n: v for n, v in overrides.items() if n in defined[chapter]}}
        print(f"[bookrun] executing {chapter} with {given} ...", flush=True)
        start = time.perf_counter()
        try:
            execute_chapter(chapter, target, given)
        except pm.PapermillExecutionError as err:
            print(
                f"[bookrun] FAILED {chapter} in cell {err.exec_count}: {err.ename}: {err.evalue}",
                file=sys.stderr,
            )
            failures.append(chapter)
            continue
        except (ValueError, OSError) as err:
            print(f"[bookrun] FAILED {chapter}: {err}", file=sys.stderr)
            failures.append(chapter)
            continue
        print(f"[bookrun] {chapter} done in {time.perf_counter() - start:.0f} s", flush=True)
    if failures:
        print(
            f"[bookrun] {len(failures)} chapter(s) failed: {', '.join(map(str, failures))}",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m helpers.bookrun [options] --out DIR book/*.md``.

    Options: ``--profile`` (quick or paper), ``--device``, ``--dataset`` (hdm05 or a .npz),
    ``--param NAME=VALUE`` (repeatable: a parameter of the chapters that define it).
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapters", nargs="+", type=Path)
    ap.add_argument("--profile", default="quick", choices=["quick", "paper"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=Path("_build/book-src/book"))
    ap.add_argument(
        "--dataset",
        default="hdm05",
        help="'hdm05' or the path of a .npz saved with SkeletonDataset.save",
    )
    ap.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter of the chapters whose parameters cell defines it (repeatable)",
    )
    args = ap.parse_args(argv)
    try:
        overrides = dict(parse_parameter(p) for p in args.param)
    except ValueError as err:
        ap.error(str(err))
    reserved = sorted({"profile", "device", "dataset"} & set(overrides))
    if reserved:
        ap.error(f"--param {reserved[0]}=...: use --{reserved[0]} instead")
    parameters = {"profile": args.profile, "device": args.device}
    if args.dataset.lower() != "hdm05":
        path = Path(args.dataset).expanduser()
        if not path.is_file():
            ap.error(f"--dataset {args.dataset}: no such file (a .npz from SkeletonDataset.save)")
        # chapters run in their own folder: a relative path must not change meaning there
        parameters["dataset"] = str(path.resolve())
    try:
        return execute_chapters(args.chapters, args.out, parameters, overrides)
    except ValueError as err:
        ap.error(str(err))


if __name__ == "__main__":
    sys.exit(main())
