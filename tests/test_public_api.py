"""The public surface: what `prefect_nemo` exports, that it is typed, and that it documents itself."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prefect import Flow, Task
from prefect.blocks.core import Block

import prefect_nemo
from prefect_nemo import errors


def public_names() -> list[str]:
    """Every lazily exported name (`_EXPORTS`), plus the version."""
    return [*prefect_nemo._EXPORTS, "__version__"]


def test_every_public_name_resolves_to_its_module() -> None:
    for name, module in prefect_nemo._EXPORTS.items():
        value = getattr(prefect_nemo, name)
        assert getattr(importlib.import_module(module), name) is value


def test_render_workers_do_not_import_prefect() -> None:
    code = "import sys, prefect_nemo.local.emulator.worker; print('prefect' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_all_is_sorted() -> None:
    assert prefect_nemo.__all__ == sorted(prefect_nemo.__all__)


def test_all_equals_the_public_names() -> None:
    assert sorted(prefect_nemo.__all__) == sorted(public_names())


def test_every_exception_is_exported() -> None:
    exported = {name for name in errors.__all__ if isinstance(getattr(errors, name), type)}
    assert exported <= set(prefect_nemo.__all__)


def test_package_is_marked_typed() -> None:
    assert (Path(prefect_nemo.__file__).parent / "py.typed").is_file()


def test_version_is_pep_440() -> None:
    from packaging.version import Version

    assert str(Version(prefect_nemo.__version__)) == prefect_nemo.__version__


def _documented() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name in prefect_nemo.__all__:
        value = getattr(prefect_nemo, name)
        if isinstance(value, Task | Flow) or (inspect.isclass(value) and issubclass(value, Block)):
            found.append((name, value))
    return found


def _doc(value: object) -> str:
    if isinstance(value, Task | Flow):
        return inspect.getdoc(value.fn) or ""
    return inspect.getdoc(value) or ""


def test_the_package_exports_tasks_flows_and_a_block() -> None:
    values = [v for _, v in _documented()]
    assert any(isinstance(v, Task) for v in values) and any(isinstance(v, Flow) for v in values)
    assert any(inspect.isclass(v) and issubclass(v, Block) for v in values)


@pytest.mark.parametrize(("name", "value"), _documented(), ids=[n for n, _ in _documented()])
def test_public_tasks_flows_and_blocks_have_a_docstring_with_an_example(name: str, value: object) -> None:
    doc = _doc(value)
    assert doc, f"{name} has no docstring"
    assert "Example" in doc and "```python" in doc, f"{name}'s docstring has no Example with a python block"
    assert name in doc.split("```python", 1)[1], f"{name}'s example does not use {name}"


@pytest.mark.parametrize(("name", "value"), _documented(), ids=[n for n, _ in _documented()])
def test_examples_compile(name: str, value: object) -> None:
    for block in _doc(value).split("```python")[1:]:
        code = textwrap.dedent(block.split("```", 1)[0])
        # Examples may use top-level `await`, as in a notebook or the body of an async flow.
        compile(code, f"<{name} example>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_errors_page_covers_every_exception() -> None:
    text = (DOCS / "errors.md").read_text()
    missing = [name for name in errors.__all__ if isinstance(getattr(errors, name), type) and name not in text]
    assert not missing


def test_links_between_doc_pages_resolve() -> None:
    broken = [
        f"{page.name} -> {target}"
        for page in DOCS.glob("*.md")
        for target in re.findall(r"\]\(([^)#:]+\.(?:md|png))(?:#[^)]*)?\)", page.read_text())
        if not (page.parent / target).exists()
    ]
    assert not broken
