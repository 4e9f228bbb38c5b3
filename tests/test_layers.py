"""The layers of DESIGN.md hold: no import circle anywhere, and no layer imports one above it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.layers import RULES, cycles, import_graph, violations

SRC = Path(__file__).resolve().parents[1] / "src"


def test_no_import_circle_in_unmask() -> None:
    assert cycles(import_graph(SRC, "unmask")) == []


def test_no_layer_imports_one_above_it() -> None:
    assert violations(import_graph(SRC, "unmask"), RULES) == []


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph(SRC, "unmask")
    # module level, from-import of a submodule, and a lazy import inside a function
    assert "unmask.formats.sqlite" in graph["unmask.parsers.base"]
    assert "unmask.formats.plist" in graph["unmask.parsers.base"]
    assert "unmask.report.html" in graph["unmask.api"]  # imported inside check_backup


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"pkg/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "files",
    [
        {"pkg/a.py": "from pkg import b\n", "pkg/b.py": "import pkg.a\n"},
        {"pkg/a.py": "from pkg.b import x\n", "pkg/b.py": "def f():\n    from pkg.c import y\n",
         "pkg/c.py": "from . import a\n"},
        {"pkg/sub/__init__.py": "VALUE = 1\nfrom .m import z\n", "pkg/sub/m.py": "from pkg.sub import VALUE\n"},
    ],
    ids=["direct", "lazy-and-relative", "through-a-package-init"],
)
def test_a_circle_is_found(tmp_path: Path, files: dict[str, str]) -> None:
    assert cycles(import_graph(_package(tmp_path, files), "pkg")) != []


def test_a_package_may_re_export_its_modules(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/sub/__init__.py": "from .m import z\n", "pkg/sub/m.py": "from pkg.sub import other\n",
        "pkg/sub/other.py": "",
    })
    assert cycles(import_graph(root, "pkg")) == []


def test_type_checking_imports_are_not_edges(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
        "pkg/b.py": "from pkg.a import A\n",
    })
    assert cycles(import_graph(root, "pkg")) == []


def test_a_climb_is_found(tmp_path: Path) -> None:
    # model importing the parser registry, formats importing an acquisition, report importing api
    root = _package(tmp_path, {
        "unmask/__init__.py": "",
        "unmask/model.py": "def f():\n    from unmask.parsers.registry import registry\n",
        "unmask/parsers/__init__.py": "",
        "unmask/parsers/registry.py": "",
        "unmask/formats/__init__.py": "",
        "unmask/formats/sqlite.py": "from unmask.acquisition.base import Acquisition\n",
        "unmask/acquisition/__init__.py": "",
        "unmask/acquisition/base.py": "",
        "unmask/report/__init__.py": "",
        "unmask/report/writers.py": "from unmask import api\n",
        "unmask/api.py": "",
    })
    found = violations(import_graph(root, "unmask"), RULES)
    assert any(v.startswith("unmask.model imports unmask.parsers.registry") for v in found)
    assert any(v.startswith("unmask.formats.sqlite imports unmask.acquisition.base") for v in found)
    assert any(v.startswith("unmask.report.writers imports unmask.api") for v in found)
    assert {v.split(" imports ")[0] for v in found} == {"unmask.model", "unmask.formats.sqlite", "unmask.report.writers"}
