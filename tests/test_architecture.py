"""The layering rules of docs/architecture.md, checked on the import graph built from source.

The graph has one node per module of ``simulator``, ``agents`` and ``analysis`` and one edge
per import statement found anywhere in a module (top level, inside functions, under
``TYPE_CHECKING``), so a lazy import cannot hide a cycle. The checks:

- no cycle between modules;
- no module imports another module's ``_private`` name;
- ``agents`` never imports simpy or ``simulator``;
- ``analysis`` imports neither simpy nor torch, and of ``simulator`` only the trace schema, the
  trace reader and the exception module;
- only ``simulator.app`` imports ``analysis``;
- no re-export shim: a module's ``__all__`` lists only names it defines (a package's
  ``__init__`` may gather its public API).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("simulator", "agents", "analysis")
ANALYSIS_MAY_IMPORT = {"simulator.errors", "simulator.trace.schema", "simulator.trace.reader"}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (internal: resolved to a module of the tree)
    names: tuple[str, ...]  # names taken with ``from target import ...``
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def collect_imports(root: Path) -> tuple[set[str], list[Import]]:
    """Every module under ``root``'s packages and every import statement in them."""
    files = [p for pkg in PACKAGES if (root / pkg).is_dir() for p in (root / pkg).rglob("*.py")]
    modules = {module_name(p, root) for p in files}
    imports: list[Import] = []
    for path in files:
        src = module_name(path, root)
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                imports += [Import(src, a.name, (), node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import: resolve against the importing package
                    pkg = src.split(".") if is_pkg else src.split(".")[:-1]
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join(pkg + ([base] if base else []))
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    if sub in modules:  # ``from pkg import module``
                        imports.append(Import(src, sub, (), node.lineno))
                    else:
                        imports.append(Import(src, base, (a.name,), node.lineno))
    return modules, imports


def reexports(root: Path) -> list[str]:
    """Names a module (not a package ``__init__``) imports and lists in its ``__all__``."""
    out = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")) if (root / pkg).is_dir() else []:
            if path.name == "__init__.py":
                continue
            tree = ast.parse(path.read_text())
            imported = {a.asname or a.name for node in tree.body
                        if isinstance(node, ast.ImportFrom) for a in node.names}
            for node in tree.body:
                if (isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple)
                        and any(isinstance(t, ast.Name) and t.id == "__all__"
                                for t in node.targets)):
                    shim = sorted(e.value for e in node.value.elts
                                  if isinstance(e, ast.Constant) and e.value in imported)
                    if shim:
                        out.append(f"{module_name(path, root)} re-exports {shim}")
    return out


def violations(root: Path) -> list[str]:
    """Every rule broken in the tree at ``root``, one line each (empty: the tree is clean)."""
    modules, imports = collect_imports(root)
    out: list[str] = []
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for imp in imports:
        top = imp.target.split(".")[0]
        where = f"{imp.source}:{imp.line}"
        if imp.target in modules and imp.target != imp.source:
            graph.add_edge(imp.source, imp.target)
        private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
        if private and top in PACKAGES:
            out.append(f"{where} imports private {private} from {imp.target}")
        if imp.source.startswith("agents") and (top == "simpy" or top == "simulator"):
            out.append(f"{where}: agents imports {imp.target}")
        if imp.source.startswith("analysis"):
            if top in ("simpy", "torch"):
                out.append(f"{where}: analysis imports {imp.target}")
            if top == "simulator" and imp.target not in ANALYSIS_MAY_IMPORT:
                out.append(f"{where}: analysis imports {imp.target}")
        if top == "analysis" and not (imp.source.startswith("analysis")
                                       or imp.source.startswith("simulator.app")):
            out.append(f"{where}: only simulator.app may import analysis ({imp.target})")
    out += reexports(root)
    for cycle in nx.simple_cycles(graph):
        out.append("import cycle: " + " -> ".join(cycle + cycle[:1]))
    return sorted(out)


def test_the_tree_keeps_every_layering_rule() -> None:
    assert violations(ROOT) == []


def _plant(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_planted_cycle_is_found_even_through_a_lazy_import(tmp_path: Path) -> None:
    _plant(tmp_path, {
        "simulator/__init__.py": "",
        "simulator/a.py": "from simulator.b import f\n",
        "simulator/b.py": "def f():\n    from simulator import a\n    return a\n",
    })
    assert violations(tmp_path) == ["import cycle: simulator.a -> simulator.b -> simulator.a"] or \
        violations(tmp_path) == ["import cycle: simulator.b -> simulator.a -> simulator.b"]


def test_planted_layer_breaches_are_found(tmp_path: Path) -> None:
    _plant(tmp_path, {
        "simulator/__init__.py": "",
        "simulator/world.py": "import simpy\n_hidden = 1\n",
        "simulator/trace/__init__.py": "",
        "simulator/trace/reader.py": "",
        "agents/__init__.py": "",
        "agents/x.py": "import simpy\nfrom simulator.world import _hidden\n",
        "analysis/__init__.py": "",
        "analysis/y.py": ("import torch\nfrom simulator.trace import reader\n"
                          "import simulator.world\n"),
        "simulator/z.py": "import analysis.y\n",
        "simulator/shim.py": "from simulator.world import thing\n__all__ = ['thing']\n",
    })
    found = violations(tmp_path)
    assert found == sorted([
        "agents.x:1: agents imports simpy",
        "agents.x:2: agents imports simulator.world",
        "agents.x:2 imports private ['_hidden'] from simulator.world",
        "analysis.y:1: analysis imports torch",
        "analysis.y:3: analysis imports simulator.world",
        "simulator.z:1: only simulator.app may import analysis (analysis.y)",
        "simulator.shim re-exports ['thing']",
    ])


def test_light_commands_do_not_import_heavy_libraries() -> None:
    """``uavtwin --help``, ``validate`` and ``schema`` never load torch, dask, numba, ..."""
    code = (
        "import sys\n"
        "import contextlib, io\n"
        "from simulator.app.cli import build_parser, main\n"
        "build_parser().format_help()\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['schema']) == 0\n"
        "    # the default scenario prices with tiny_madrl: validate reads its checkpoint\n"
        "    assert main(['validate', 'scenarios/default.yaml']) == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'dask', 'distributed', 'matplotlib', 'pandas', 'simpy', 'h5py', 'numba'))\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


def test_analysis_loads_no_engine_at_run_time() -> None:
    """Importing the analysis package (transitively) loads no simpy, torch or pyplot."""
    code = (
        "import sys, analysis, analysis.report, analysis.figures, analysis.metrics, "
        "analysis.sweep\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('simpy', 'torch')"
        " or m == 'matplotlib.pyplot' or (m.startswith('simulator.') and m not in "
        # the reader checks files with simulator.trace.validate (its own dependency)
        f"{sorted(ANALYSIS_MAY_IMPORT | {'simulator.trace', 'simulator.trace.validate'})!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


def test_module_map_in_docs_names_exactly_the_modules_of_the_tree() -> None:
    """docs/models.md's module map lists every module (not ``__init__``) and no other."""
    text = (ROOT / "docs" / "models.md").read_text()
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    listed = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    tree = {str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
            if p.name != "__init__.py"}
    assert sorted(tree - listed) == [], "modules missing from docs/models.md's module map"
    assert sorted(listed - tree) == [], "docs/models.md lists modules that do not exist"
