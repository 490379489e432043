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

Unchanged chapters are not run again. Every executed notebook is kept in a reuse folder
(``--reuse``, default ``_build/executed``) beside its key (:func:`execution_key`): a hash of the
chapter's text, its parameters, every source file of :mod:`helpers`, the listings of the named
datasets' folders (names, sizes, modification times; a chapter may read both) or the dataset
file, and the Python, numpy and torch versions and whether CUDA is there. When the key of a
chapter matches the stored one, the stored notebook is copied instead of executing the chapter:
its outputs are those the same code computed on the same data. ``--fresh`` executes every
chapter regardless.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import jupytext
import nbformat

__all__ = [
    "chapter_parameters",
    "check_overrides",
    "execution_key",
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


def _literal(source: str) -> tuple[bool, object]:
    """``(True, value)`` for a Python literal, ``(False, None)`` for any other expression."""
    try:
        return True, ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return False, None


def _kind_of(value: object) -> str:
    """What a value is, in words, for a usage error."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _fits(value: object, default: object) -> bool:
    """Whether an override has the kind of its chapter's literal default.

    A default of None takes anything (it means "the profile's" or "not given"); a string
    default also takes None (no second dataset, say); an integer default takes integers only
    (``k=ten`` or ``k=2.5`` would fail deep inside the chapter, or be floored); a number takes
    integers and numbers; a list takes lists whose items fit its first item.
    """
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return value is None or isinstance(value, str)
    if isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return False
        return not default or all(_fits(item, default[0]) for item in value)
    return True


def check_overrides(overrides: dict, defined: dict[Path, dict[str, str]]) -> None:
    """Refuse an override whose value has not the kind of a chapter's default for it.

    Parameters
    ----------
    overrides : ``{name: value}`` as :func:`parse_parameter` read them.
    defined : per chapter, :func:`chapter_parameters`.

    Raises
    ------
    ValueError
        Naming the parameter, the value, the chapter and the default, e.g. for ``k=ten``
        where a chapter has ``k = 10``.
    """
    for name, value in overrides.items():
        for chapter, names in defined.items():
            if name not in names:
                continue
            is_literal, default = _literal(names[name])
            if is_literal and not _fits(value, default):
                raise ValueError(
                    f"--param {name}={value!r}: {Path(chapter).name} expects "
                    f"{_kind_of(default)} like its default {names[name]}, got {_kind_of(value)}"
                )


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


def _tree_digest(root: Path, pattern: str, content: bool) -> str:
    """Hash of the files under ``root`` matching ``pattern``: their bytes, or their stat."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob(pattern) if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        if content:
            h.update(path.read_bytes())
        else:
            st = path.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def execution_key(chapter: Path, parameters: dict) -> str:
    """The key under which an executed chapter is reused (see the module docstring).

    Parameters
    ----------
    chapter : the chapter's source (``book/NN_name.md``)
    parameters : what papermill injects into it

    Returns
    -------
    A hex digest; any change to the chapter, its parameters, the :mod:`helpers` sources, the
    data (the listing of every named dataset's folder,
    :data:`~helpers.runtime.folders.DATASET_FOLDERS`, or the ``dataset`` file's bytes), or the
    Python, numpy or torch version, or to whether CUDA is available, changes it.
    """
    import numpy
    import torch

    from helpers.runtime.folders import DATASET_FOLDERS, data_dir

    package = Path(__file__).resolve().parent
    dataset = parameters.get("dataset", "hdm05")
    if str(dataset).lower() in DATASET_FOLDERS:
        # every named dataset: a chapter may compare both, whichever its parameter names
        data = {}
        for name in sorted(DATASET_FOLDERS):
            folder = data_dir(dataset=name)
            data[name] = _tree_digest(folder, "*", content=False) if folder.is_dir() else "missing"
    else:
        data = hashlib.sha256(Path(dataset).read_bytes()).hexdigest()
    parts = {
        "chapter": hashlib.sha256(Path(chapter).read_bytes()).hexdigest(),
        "parameters": json.dumps(parameters, sort_keys=True, default=repr),
        "helpers": _tree_digest(package, "*.py", content=True),
        "data": data,
        "versions": [platform.python_version(), numpy.__version__, torch.__version__],
        "cuda": torch.cuda.is_available(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _reusable(reuse_dir: Path | None, chapter: Path, key: str) -> Path | None:
    if reuse_dir is None:
        return None
    stored, stamp = reuse_dir / f"{chapter.stem}.ipynb", reuse_dir / f"{chapter.stem}.key"
    if stored.is_file() and stamp.is_file() and stamp.read_text().strip() == key:
        return stored
    return None


def _keep(reuse_dir: Path, target: Path, key: str) -> None:
    """Store an executed notebook and its key (the key last, so a torn pair never matches)."""
    reuse_dir.mkdir(parents=True, exist_ok=True)
    stored, stamp = reuse_dir / target.name, reuse_dir / f"{target.stem}.key"
    stamp.unlink(missing_ok=True)
    tmp = stored.with_suffix(".ipynb.tmp")
    shutil.copy2(target, tmp)
    os.replace(tmp, stored)
    stamp.write_text(key + "\n")


def execute_chapters(
    chapters: list[Path],
    out_dir: Path,
    parameters: dict,
    overrides: dict | None = None,
    reuse_dir: Path | None = None,
) -> int:
    """Execute every chapter into ``out_dir``; return 0, or 1 when any of them failed.

    ``parameters`` go to every chapter; each of ``overrides`` only to the chapters whose
    ``parameters`` cell defines it (a name that no chapter defines, or a value of another kind
    than a chapter's default, is an error raised before anything runs), so that ``k=12``
    changes the chapters that have a ``k`` and no others. With ``reuse_dir``, a chapter whose
    :func:`execution_key` matches the one stored there is copied from there instead of
    executed, and every chapter executed is stored there.
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
    check_overrides(overrides, defined)

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
        key = execution_key(chapter, given) if reuse_dir is not None else ""
        stored = _reusable(reuse_dir, chapter, key)
        if stored is not None:
            shutil.copy2(stored, target)  # the stored time too: Sphinx sees nothing new
            print(f"[bookrun] {chapter} unchanged: reused {stored}", flush=True)
            continue
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
        if reuse_dir is not None:
            _keep(reuse_dir, target, key)
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

    Options: ``--profile`` (quick, paper, or smoke: a check that the chapters run),
    ``--device``, ``--dataset`` (hdm05, utd-mhad or a .npz), ``--param NAME=VALUE``
    (repeatable: a parameter of the chapters that define it). A mistake in any of them (an
    unknown or wrongly typed parameter, a missing chapter, a file that is not a saved dataset)
    is a usage error, exit status 2, before any chapter runs.
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapters", nargs="+", type=Path)
    ap.add_argument("--profile", default="quick", choices=["quick", "paper", "smoke"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=Path("_build/book-src/book"))
    ap.add_argument(
        "--dataset",
        default="hdm05",
        help="'hdm05', 'utd-mhad' or the path of a .npz saved with SkeletonDataset.save",
    )
    ap.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter of the chapters whose parameters cell defines it (repeatable)",
    )
    ap.add_argument(
        "--reuse",
        type=Path,
        default=Path("_build/executed"),
        help="folder of executed chapters kept for reuse (default _build/executed)",
    )
    ap.add_argument(
        "--fresh", action="store_true", help="execute every chapter, even unchanged ones"
    )
    args = ap.parse_args(argv)
    for path in args.chapters:
        if path.is_dir():
            ap.error(f"{path} is a folder; name the chapter files (for example book/*.md)")
        if not path.is_file():
            ap.error(f"{path}: no such chapter (a book/NN_name.md file)")
    try:
        overrides = dict(parse_parameter(p) for p in args.param)
    except ValueError as err:
        ap.error(str(err))
    reserved = sorted({"profile", "device", "dataset"} & set(overrides))
    if reserved:
        ap.error(f"--param {reserved[0]}=...: use --{reserved[0]} instead")
    parameters = {"profile": args.profile, "device": args.device}
    if args.dataset.lower() == "utd-mhad":
        parameters["dataset"] = "utd-mhad"
    elif args.dataset.lower() != "hdm05":
        path = Path(args.dataset).expanduser()
        if not path.is_file():
            ap.error(
                f"--dataset {args.dataset}: no such file; expected 'hdm05', 'utd-mhad' or a "
                ".npz written by SkeletonDataset.save"
            )
        # read it once now, so that a file that is not a saved dataset fails here, before any
        # chapter runs, and not in every chapter's first cell
        from helpers.data.dataset import SkeletonDataset

        try:
            SkeletonDataset.load(path)
        except (ValueError, OSError) as err:
            ap.error(f"--dataset {args.dataset}: {err}")
        # chapters run in their own folder: a relative path must not change meaning there
        parameters["dataset"] = str(path.resolve())
    try:
        return execute_chapters(
            args.chapters,
            args.out,
            parameters,
            overrides,
            reuse_dir=None if args.fresh else args.reuse,
        )
    except ValueError as err:
        ap.error(str(err))


if __name__ == "__main__":
    sys.exit(main())
