"""The documentation runs: docstring examples of every module of the installed package, and
the Python code blocks of README.md."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import warnings
from pathlib import Path

import fastentropy
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```[ \t]*(?:python|py|pycon)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def _modules() -> list[str]:
    names = ["fastentropy"]
    for info in pkgutil.walk_packages(fastentropy.__path__, prefix="fastentropy."):
        names.append(info.name)
    return names


MODULES = _modules()


def test_module_discovery_finds_the_known_modules():
    for name in ("fastentropy._estimate", "fastentropy._profile", "fastentropy._floor.demo"):
        assert name in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # examples should not emit warnings
        result = doctest.testmod(
            module, verbose=False, report=True, optionflags=doctest.NORMALIZE_WHITESPACE
        )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_docstring_examples_exist():
    total = 0
    for name in MODULES:
        finder = doctest.DocTestFinder()
        module = importlib.import_module(name)
        total += sum(len(t.examples) for t in finder.find(module))
    assert total > 0


PUBLIC_CALLABLES = [
    n
    for n in fastentropy.__all__
    if inspect.isclass(getattr(fastentropy, n)) or inspect.isfunction(getattr(fastentropy, n))
]


def test_public_callables_found():
    assert {"Profile", "Estimate", "entropy", "entropies"} <= set(PUBLIC_CALLABLES)


@pytest.mark.parametrize("name", PUBLIC_CALLABLES)
def test_public_objects_have_runnable_examples(name):
    obj = getattr(fastentropy, name)
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"fastentropy.{name} has no example in its docstring"
    for section in ("Parameters", "Examples"):
        if inspect.isfunction(obj):
            assert section in doc, f"fastentropy.{name} docstring lacks a {section} section"


def _readme_text() -> str:
    return README.read_text(encoding="utf-8") if README.exists() else ""


def _readme_blocks() -> list[str]:
    return [m.group(1) for m in FENCE.finditer(_readme_text())]


def test_readme_quick_start_has_code():
    text = _readme_text()
    if not re.search(r"^##\s+Quick start\s*$", text, re.M | re.I):
        pytest.skip("README.md has no '## Quick start' section yet")
    section = re.split(r"^##\s+Quick start\s*$", text, maxsplit=1, flags=re.M | re.I)[1]
    section = re.split(r"^##\s", section, maxsplit=1, flags=re.M)[0]
    assert FENCE.search(section), "the Quick start section has no ```python block"


def test_fence_extraction():
    text = "x\n```python\na = 1\n```\n```sh\nls\n```\n```python\n>>> 1 + 1\n2\n```\n"
    assert [m.group(1) for m in FENCE.finditer(text)] == ["a = 1\n", ">>> 1 + 1\n2\n"]


def run_blocks(blocks: list[str], source: str) -> None:
    """Run python blocks in order in one namespace: doctest if they hold ``>>>``, else exec."""
    globs: dict = {"__name__": "__readme__"}
    parser = doctest.DocTestParser()
    for i, block in enumerate(blocks):
        if ">>>" in block:
            test = parser.get_doctest(block, globs, f"{source} block {i}", source, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test, clear_globs=False)
            globs.update(test.globs)  # DocTest copies globs; later blocks use these names
            result = runner.summarize(verbose=False)
            assert result.failed == 0, f"{source} python block {i} failed:\n{block}"
        else:
            exec(compile(block, f"{source} block {i}", "exec"), globs)


def test_block_runner_can_fail():
    run_blocks(["x = 2\n", ">>> x + 1\n3\n", ">>> y = x\n", "assert y == 2\n"], "self-test")
    with pytest.raises(AssertionError):
        run_blocks([">>> 1 + 1\n3\n"], "self-test")
    with pytest.raises(ZeroDivisionError):
        run_blocks(["1 / 0\n"], "self-test")


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = _readme_blocks()
    if not blocks:
        pytest.skip("README.md has no python code blocks")
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    run_blocks(blocks, str(README))
