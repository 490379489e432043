"""Execute the book's chapters with papermill (``python -m helpers.bookrun``).

Used by ``make book``: each chapter is executed on its own, in a fresh kernel, with the
parameters ``profile`` and ``device`` injected into its ``parameters`` cell, and written to the
output folder. A chapter that raises stops the build with a non-zero exit status and names the
chapter and the failing cell. ``--strip`` removes outputs from notebooks in place (committed
notebooks carry none).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat


def has_parameters_cell(nb: nbformat.NotebookNode) -> bool:
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells if c.cell_type == "code")


def strip_outputs(path: Path) -> bool:
    """Remove outputs and execution counts from a notebook in place; return whether it changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell["outputs"] = []
        cell["execution_count"] = None
    for key in ("widgets", "papermill"):
        if key in nb.metadata:
            del nb.metadata[key]
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def execute_chapters(chapters: list[Path], out_dir: Path, parameters: dict) -> int:
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    # A global MPLBACKEND (e.g. Agg on a headless CI) would replace the kernels' inline backend
    # and silently drop every figure from the book.
    os.environ.pop("MPLBACKEND", None)
    failures = []
    for chapter in chapters:
        nb = nbformat.read(chapter, as_version=4)
        if not has_parameters_cell(nb):
            print(f"[bookrun] {chapter}: no cell tagged 'parameters'; every chapter needs one", file=sys.stderr)
            failures.append(chapter)
            continue
        target = out_dir / chapter.name
        print(f"[bookrun] executing {chapter} with {parameters} ...", flush=True)
        start = time.perf_counter()
        try:
            pm.execute_notebook(
                str(chapter), str(target), parameters=parameters, kernel_name="python3",
                cwd=str(chapter.parent), progress_bar=False, log_output=False,
            )
        except pm.PapermillExecutionError as err:
            print(f"[bookrun] FAILED {chapter} in cell {err.exec_count}: {err.ename}: {err.evalue}", file=sys.stderr)
            failures.append(chapter)
            continue
        print(f"[bookrun] {chapter} done in {time.perf_counter() - start:.0f} s", flush=True)
    if failures:
        print(f"[bookrun] {len(failures)} chapter(s) failed: {', '.join(map(str, failures))}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--profile", default="quick", choices=["quick", "paper"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=Path("_build/book-src/book"))
    ap.add_argument("--strip", action="store_true", help="strip outputs in place instead of executing")
    args = ap.parse_args(argv)
    if args.strip:
        for nb in args.notebooks:
            if strip_outputs(nb):
                print(f"stripped {nb}")
        return 0
    return execute_chapters(args.notebooks, args.out, {"profile": args.profile, "device": args.device})


if __name__ == "__main__":
    sys.exit(main())
