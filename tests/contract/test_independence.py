"""The contract suite must not lean on our emulator: no module of it imports `prefect_nemo.local`."""

from __future__ import annotations

import ast
from pathlib import Path


def test_no_contract_test_imports_the_embedded_backend() -> None:
    offenders = []
    for path in Path(__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(("prefect_nemo.local", "tests.local"))]
    assert offenders == []
