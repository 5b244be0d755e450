"""Every code block of the documentation runs, so that no example can rot.

The pages are read as the site shows them: README sections brought in with
``{% include-markdown %}`` are expanded first. Then, page by page, in order, in a
fresh folder of the page's own:

- a block with a ``title="path"`` is written to that path (a module, an ini, a test);
- a ``python`` block without a title is executed, all of a page's blocks sharing one
  namespace (the folder is the current directory and on ``sys.path``);
- a ``console`` block runs each ``$ command`` line with bash; the lines under it are the
  expected output: each must appear in order, a ``...`` line standing for any lines.
  The command must exit 0, unless an ``<!-- exit-status: N -->`` line precedes the block;
- any other block must be preceded by ``<!-- illustrative: why it is not run -->``.

A page that fails names the block (page, line) and what went wrong.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1]
PAGES = DOCS / "pages"
FENCE = re.compile(
    r"^(?P<indent> *)(?P<fence>```+)(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S
)
DIRECTIVE = re.compile(r"<!-- (illustrative|exit-status): *(.*?) *-->\s*$")
INCLUDE = re.compile(r"\{%\s*include-markdown\s+(?P<args>.*?)%\}", re.S)
TITLE = re.compile(r'title="([^"]+)"')


@dataclass
class Block:
    page: str
    line: int
    language: str
    title: str | None
    body: str
    directive: tuple[str, str] | None

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.language or 'no language'})"


def _include(match: re.Match[str], page: Path) -> str:
    arguments = dict(re.findall(r'([a-z-]+)="((?:[^"\\]|\\.)*)"', match.group("args")))
    path = re.match(r'\s*"([^"]+)"', match.group("args")).group(1)
    text = (page.parent / path).read_text(encoding="utf-8")
    start, end = (arguments.get(name, "").encode().decode("unicode_escape") for name in ("start", "end"))
    if start:
        assert start in text, f"{page.name}: start {start!r} not found in {path}"
        text = text.split(start, 1)[1]
    if end:
        assert end in text, f"{page.name}: end {end!r} not found in {path}"
        text = text.split(end, 1)[0]
    return text


def page_text(page: Path) -> str:
    """The page's Markdown with its include-markdown directives expanded."""
    text = page.read_text(encoding="utf-8")
    return INCLUDE.sub(lambda match: _include(match, page), text)


def blocks(page: Path) -> list[Block]:
    text = page_text(page)
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        directive = DIRECTIVE.search(before)
        info = match.group("info").strip()
        language = info.split()[0] if info and not info.startswith(("{", "title")) else ""
        title = TITLE.search(info)
        body = "\n".join(line[len(match.group("indent")) :] for line in match.group("body").splitlines())
        found.append(
            Block(
                page=str(page.relative_to(PAGES)) if page.is_relative_to(PAGES) else page.name,
                line=text.count("\n", 0, match.start()) + 1,
                language=language,
                title=title.group(1) if title else None,
                body=body + "\n",
                directive=(directive.group(1), directive.group(2)) if directive else None,
            )
        )
    return found


def _line_matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("..."))
    return re.fullmatch(pattern, actual.rstrip()) is not None


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``expected`` lines appear in order in ``actual``: a ``...`` line stands for any
    lines, ``...`` within a line for any text."""
    position = 0
    anywhere = False
    for line in expected:
        if line.strip() == "...":
            anywhere = True
            continue
        candidates = range(position, len(actual)) if anywhere else range(position, position + 1)
        found = next(
            (index for index in candidates if index < len(actual) and _line_matches(line, actual[index])), None
        )
        if found is None:
            return False
        position, anywhere = found + 1, False
    return True


def run_console(block: Block, folder: Path) -> None:
    expected_status = int(block.directive[1]) if block.directive and block.directive[0] == "exit-status" else 0
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        elif line.strip():
            pytest.fail(f"{block}: output before any `$ command` line")
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for command, expected in commands:
        done = subprocess.run(
            ["bash", "-c", command], cwd=folder, env=environment, capture_output=True, text=True, timeout=900
        )
        output = (done.stdout + done.stderr).splitlines()
        assert done.returncode == expected_status, (
            f"{block}: `{command}` exited {done.returncode}, expected {expected_status}:\n" + "\n".join(output[-40:])
        )
        assert _matches(expected, output), f"{block}: `{command}` printed:\n" + "\n".join(output)


@contextlib.contextmanager
def working_directory(folder: Path) -> Iterator[None]:
    # contextlib.chdir is Python 3.11+.
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def run_page(page: Path, folder: Path) -> dict[str, int]:
    counts = {"written": 0, "executed": 0, "commands": 0, "illustrative": 0}
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in blocks(page):
        if block.directive and block.directive[0] == "illustrative":
            assert block.directive[1], f"{block}: an illustrative block must say why it is not run"
            counts["illustrative"] += 1
        elif block.title:
            path = folder / block.title
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.body, encoding="utf-8")
            counts["written"] += 1
        elif block.language in ("python", "py"):
            code = compile(block.body, f"{block.page}:{block.line}", "exec")
            with working_directory(folder):
                exec(code, namespace)
            counts["executed"] += 1
        elif block.language == "console":
            run_console(block, folder)
            counts["commands"] += sum(1 for line in block.body.splitlines() if line.startswith("$ "))
        else:
            pytest.fail(f"{block}: neither run nor marked <!-- illustrative: reason -->")
    return counts


def all_pages() -> list[Path]:
    return sorted(PAGES.rglob("*.md"))


@pytest.mark.parametrize("page", all_pages(), ids=lambda page: str(page.relative_to(PAGES)))
def test_every_code_block_of_the_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    try:
        counts = run_page(page, tmp_path)
    finally:
        # Pages may name their modules alike (myproject): the next page imports its own.
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
                del sys.modules[name]
    print(f"{page.relative_to(PAGES)}: {counts}")


def test_the_runner_refuses_an_unmarked_block_it_cannot_run(tmp_path):
    page = tmp_path / "unmarked.md"
    page.write_text("Text.\n\n```sh\necho hi\n```\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="neither run nor marked"):
        run_page(page, tmp_path)


def test_expected_output_lines_match_in_order_with_ellipsis():
    assert _matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert not _matches(["a", "d"], ["a", "b", "d"])
    assert not _matches(["d", "...", "a"], ["a", "d"])
    assert _matches(["PASS: ... passed in ..."], ["PASS: 3 passed in 1.2 s"])
    assert not _matches(["PASS: ... passed"], ["FAIL: 3 passed"])
