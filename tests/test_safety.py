"""Untrusted files: no pickle anywhere in the package, and weights only from safetensors
(an AST scan of `stancekit/`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PACKAGE = sorted((ROOT / "stancekit").rglob("*.py"))
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve",
                  "marshal"}


def _calls(tree_: ast.AST):
    for node in ast.walk(tree_):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            yield node, owner, name, {k.arg: k.value for k in node.keywords}


def _is_const(node: ast.AST | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def test_no_unsafe_loading_anywhere_in_the_package() -> None:
    """No pickle in any form, torch.load only with weights_only=True, YAML only with
    safe_load, no eval/exec, trust_remote_code never anything but False."""
    problems = []
    for path in PACKAGE:
        rel = path.relative_to(ROOT)
        source = path.read_text(encoding="utf-8")
        tree_ = ast.parse(source)
        for node in ast.walk(tree_):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""]
                bad = [n for n in names if n.split(".")[0] in UNSAFE_MODULES]
                if bad:
                    problems.append(f"{rel}:{node.lineno}: imports {bad}")
        for node, owner, name, kw in _calls(tree_):
            where = f"{rel}:{node.lineno}"
            if name == "load" and owner == "torch" and not _is_const(kw.get("weights_only"), True):
                problems.append(f"{where}: torch.load without weights_only=True")
            if name in ("load", "unsafe_load", "full_load", "load_all") and owner == "yaml":
                problems.append(f"{where}: yaml.{name} (use yaml.safe_load)")
            if "allow_pickle" in kw and not _is_const(kw["allow_pickle"], False):
                problems.append(f"{where}: allow_pickle is not False")
            if name in ("eval", "exec") and not owner:
                problems.append(f"{where}: {name}()")
            if "trust_remote_code" in kw and not _is_const(kw["trust_remote_code"], False):
                problems.append(f"{where}: trust_remote_code is not False")
        if "trust_remote_code=True" in source.replace(" ", ""):
            problems.append(f"{rel}: trust_remote_code=True")
    assert problems == []


def _model_loads(path: Path) -> list[str]:
    """``*Model*.from_pretrained`` calls that do not insist on safetensors."""
    out = []
    for node, owner, name, kw in _calls(ast.parse(path.read_text(encoding="utf-8"))):
        if name == "from_pretrained" and ("Model" in owner or "For" in owner) and \
                not _is_const(kw.get("use_safetensors"), True):
            out.append(f"{path.name}:{node.lineno}: {owner}.from_pretrained without "
                       "use_safetensors=True")
    return out


@pytest.mark.parametrize("path", [
    pytest.param(p, id=str(p.relative_to(ROOT / "stancekit")))
    for p in PACKAGE if "from_pretrained(" in p.read_text(encoding="utf-8")])
def test_model_weights_load_only_from_safetensors(path: Path) -> None:
    assert _model_loads(path) == []
