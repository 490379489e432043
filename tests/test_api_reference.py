"""The book's API reference (api.md) documents every module of ``helpers``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: modules that are not part of the library's API: the book's build driver
NOT_API = {"helpers.bookrun"}


def test_api_reference_lists_every_module():
    documented = set(re.findall(r"automodule:: (\S+)", (ROOT / "api.md").read_text()))
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "helpers").rglob("*.py")
        if p.name != "__init__.py"
    }
    missing = sorted(modules - documented - NOT_API)
    assert not missing, f"api.md lacks an automodule section for {missing}"
    unknown = sorted(documented - modules)
    assert not unknown, f"api.md documents modules that do not exist: {unknown}"
