"""The module map is complete: api.md and the README's "Modules" section list every module.

api.md has one ``## `helpers.<sub>`...`` section per subpackage, in pipeline order, each holding an
automodule for every module of that subpackage; the README lists the same subpackages in the same
order, with one line per module.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: modules that are not part of the library's API: the book's build driver
NOT_API = {"helpers.bookrun"}


def package_modules() -> dict[str, list[str]]:
    """Subpackage name -> its module names (``helpers.<sub>.<module>``), from the file tree."""
    tree: dict[str, list[str]] = {}
    for path in sorted((ROOT / "helpers").glob("*/*.py")):
        if path.name != "__init__.py":
            tree.setdefault(path.parent.name, []).append(f"helpers.{path.parent.name}.{path.stem}")
    return tree


def sections(text: str, level: str) -> dict[str, str]:
    """Subpackage -> the text of its heading's section (headings like ``## `helpers.data`...``)."""
    pattern = re.compile(rf"^{re.escape(level)} \*{{0,2}}`helpers\.(\w+)`.*$", re.M)
    marks = list(pattern.finditer(text))
    return {
        m.group(1): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for i, m in enumerate(marks)
    }


def readme_map() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n## Modules\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else len(readme)]


def test_api_reference_lists_every_module():
    documented = set(re.findall(r"automodule:: (\S+)", (ROOT / "api.md").read_text()))
    modules = {m for mods in package_modules().values() for m in mods}
    missing = sorted(modules - documented - NOT_API)
    assert not missing, f"api.md lacks an automodule section for {missing}"
    unknown = sorted(documented - modules)
    assert not unknown, f"api.md documents modules that do not exist: {unknown}"


def test_api_reference_is_grouped_by_subpackage():
    tree = package_modules()
    api = sections((ROOT / "api.md").read_text(), "##")
    assert set(api) == set(tree), f"api.md sections {sorted(api)} vs subpackages {sorted(tree)}"
    for sub, mods in tree.items():
        listed = set(re.findall(r"automodule:: (\S+)", api[sub]))
        assert listed == set(mods), f"api.md section of helpers.{sub}: {sorted(listed ^ set(mods))}"


def test_readme_maps_every_module_in_the_api_order():
    text = readme_map()
    readme = [
        m.group(1) for m in re.finditer(r"^- \*\*`helpers\.(\w+)`\*\*", text, re.M)
    ]  # subpackages, in the README's order
    api = list(sections((ROOT / "api.md").read_text(), "##"))
    assert readme[: len(api)] == api, f"README order {readme} differs from api.md order {api}"
    assert readme[len(api) :] == ["bookrun"], "the README map ends with helpers.bookrun"
    blocks = sections(text, "-")
    for sub, mods in package_modules().items():
        listed = set(re.findall(r"^  - `(\w+)`:", blocks[sub], re.M))
        names = {m.rsplit(".", 1)[1] for m in mods}
        assert listed == names, f"README map of helpers.{sub}: {sorted(listed ^ names)}"
