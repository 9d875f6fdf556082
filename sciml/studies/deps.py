"""Which library sources a step depends on, found by a static scan of its real imports.

A rule's ``code=`` input lists these files (so editing a module reruns exactly the steps that import it) and
the provenance record stores their digest. The scan reads source, it never imports:

* in the step's own study module, only what the step function uses: the names it (and the module-level
  helpers it calls, recursively) refers to, mapped to that module's imports, plus imports inside those
  functions; the module's own source enters as :func:`step_digest` (a rule parameter) instead of a file,
  so editing one step reruns that step only;
* for every library module reached, all of its imports (module level or inside functions, ``TYPE_CHECKING``
  blocks excepted), recursively, plus the ``__init__`` of every package on the way;
* always the contract itself (:data:`CONTRACT`);
* a compiled extension enters as its C source and the local headers it includes.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the sciml package folder
PACKAGE = ROOT.name
CONTRACT = ("sciml.studies.registry", "sciml.studies.run", "sciml.studies.deps", "sciml.workflow", "sciml.config",
            "sciml.io.netcdf", "sciml.io.atomic", "sciml.io.weights", "sciml.errors", "sciml.device")


def module_file(module: str) -> Path | None:
    """Source file of a ``sciml`` module (``None`` for modules outside the package)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    if base.with_suffix(".c").exists():  # a compiled extension: its C source stands for it
        return base.with_suffix(".c")
    return None


def _c_includes(path: Path) -> set[Path]:
    """Local headers (``#include "..."``) of a C source, transitively."""
    out: set[Path] = set()
    for name in re.findall(r'^\s*#\s*include\s+"([^"]+)"', path.read_text(), flags=re.M):
        h = (path.parent / name).resolve()
        if h.exists() and h not in out:
            out |= {h} | _c_includes(h)
    return out


def _is_package(module: str) -> bool:
    f = module_file(module)
    return f is not None and f.name == "__init__.py"


def _resolve(node: ast.ImportFrom | ast.Import, module: str) -> list[str]:
    """Modules an import statement loads (``from a.b import c`` -> ``a.b.c`` when c is a submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = module.split(".") if _is_package(module) else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        src = ".".join(base + ([node.module] if node.module else []))
    else:
        src = node.module or ""
    out = [src]
    for a in node.names:
        sub = f"{src}.{a.name}"
        if module_file(sub) is not None:
            out.append(sub)
    return out


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports_in(nodes: list[ast.AST], module: str) -> set[str]:
    found: set[str] = set()
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if _type_checking(n):
            continue
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            found.update(m for m in _resolve(n, module) if m.split(".")[0] == PACKAGE)
        stack.extend(ast.iter_child_nodes(n))
    return found


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _with_parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


@functools.cache
def module_closure(module: str) -> frozenset[Path]:
    """Source files of ``module`` and of every ``sciml`` module it imports, transitively."""
    files: set[Path] = set()
    todo, seen = [module], set()
    while todo:
        m = todo.pop()
        for mm in _with_parents(m):
            if mm in seen:
                continue
            seen.add(mm)
            f = module_file(mm)
            if f is None:
                continue
            files.add(f)
            if f.suffix == ".c":
                files |= _c_includes(f)
            else:
                todo.extend(_imports_in([_tree(f)], mm))
    return frozenset(files)


def _top_level(tree: ast.Module) -> tuple[dict[str, ast.AST], dict[str, set[str]]]:
    """Module-level definitions (name -> node) and imported names (alias -> modules)."""
    defs: dict[str, ast.AST] = {}
    aliases: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        defs[n.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not _type_checking(node):
            for a in node.names:
                alias = a.asname or a.name.split(".")[0]
                if isinstance(node, ast.Import):
                    mods = {a.name}
                else:
                    src = node.module or ""
                    sub = f"{src}.{a.name}"
                    mods = {sub} if module_file(sub) is not None else {src}
                aliases.setdefault(alias, set()).update(m for m in mods if m.split(".")[0] == PACKAGE)
    return defs, aliases


def _used_nodes(module: str, func_name: str) -> tuple[list[ast.AST], set[str]]:
    """Nodes of ``module`` the function ``func_name`` needs, and the modules they import."""
    path = module_file(module)
    if path is None:
        raise ValueError(f"{module}: not a sciml module")
    tree = _tree(path)
    defs, aliases = _top_level(tree)
    if func_name not in defs:
        raise ValueError(f"{module}: no module-level function {func_name!r}")
    used: list[ast.AST] = []
    mods: set[str] = set()
    todo, seen = [func_name], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in aliases:
            mods |= aliases[name]
            continue
        node = defs.get(name)
        if node is None or any(node is u for u in used):
            continue
        used.append(node)
        mods |= _imports_in([node], module)
        todo.extend(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    return used, mods


def _step(name: str):
    from sciml.studies import get_step

    return get_step(name)


def step_sources(name: str) -> list[str]:
    """Library source files step ``name`` depends on (sorted absolute paths), its own study module excepted."""
    st = _step(name)
    _, mods = _used_nodes(st.module, st.func.__name__)
    files: set[Path] = set()
    for m in set(mods) | set(CONTRACT) | (_with_parents(st.module) - {st.module}):
        files |= module_closure(m)
    own = module_file(st.module)
    return sorted(str(f) for f in files if f != own)


def step_digest(name: str) -> str:
    """sha256 (16 hex digits) of the source of the step function and the study-module helpers it uses."""
    st = _step(name)
    used, _ = _used_nodes(st.module, st.func.__name__)
    h = hashlib.sha256()
    for node in sorted(used, key=lambda n: n.lineno):
        h.update(ast.unparse(node).encode())
    return h.hexdigest()[:16]
