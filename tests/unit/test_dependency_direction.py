"""DESIGN.md: flows -> tasks -> postdeploy.adapters/store/reporting -> postdeploy.domain."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
# Entry points may load blocks (DESIGN.md): the CLI, demo, `up`, and the hooks API's auth,
# which reads its token from a Prefect Secret block when one is named.
ENTRY_POINTS = {
    "postdeploy/cli.py",
    "postdeploy/demo.py",
    "postdeploy/supervisor.py",
    "postdeploy/api/auth.py",
}
IO_LIBRARIES = {
    "prefect",
    "httpx",
    "requests",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "uvicorn",
    "psycopg",
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def top(name: str) -> str:
    return name.split(".")[0]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", modules("postdeploy/domain"), ids=rel)
def test_the_domain_imports_nothing_of_the_project_nor_io_libraries(path: Path) -> None:
    bad = {
        name
        for name in imports(path)
        if top(name) in IO_LIBRARIES | {"blocks", "tasks", "flows"}
        or (top(name) == "postdeploy" and not name.startswith("postdeploy.domain"))
    }
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize(
    "path", [p for p in modules("postdeploy") if rel(p) not in ENTRY_POINTS], ids=rel
)
def test_the_library_never_imports_prefect_or_the_layers_above_it(path: Path) -> None:
    bad = {name for name in imports(path) if top(name) in {"prefect", "blocks", "tasks", "flows"}}
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules("tasks") + modules("blocks"), ids=rel)
def test_tasks_and_blocks_never_import_flows(path: Path) -> None:
    bad = {name for name in imports(path) if top(name) == "flows"}
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules("blocks"), ids=rel)
def test_blocks_hold_configuration_and_never_import_tasks(path: Path) -> None:
    bad = {name for name in imports(path) if top(name) == "tasks"}
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


def test_the_rules_see_real_imports() -> None:
    # guards the checker itself: a known edge must be visible to it
    assert "tasks.checks" in imports(ROOT / "flows" / "health_check.py")
    assert "sqlalchemy" in imports(ROOT / "postdeploy" / "store" / "schema.py")
