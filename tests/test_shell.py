"""``copilot shell``: commands, help, cancelling an answer, and a real session over a pipe."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from rich.console import Console

from copilot.answers.models import AnswerEvent
from copilot.shell import Command, Shell, parse, plain_reader


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", Command("empty")),
        ("   \t", Command("empty")),
        ("退出", Command("exit")),
        (" EXIT ", Command("exit")),
        ("quit", Command("exit")),
        ("帮助", Command("help")),
        ("help", Command("help")),
        ("?", Command("help")),
        ("？", Command("help")),
        ("事件 渝北区两路街道有个井盖不见了", Command("route", "渝北区两路街道有个井盖不见了")),
        ("事件：小区门口垃圾没人收", Command("route", "小区门口垃圾没人收")),
        ("/route 小区门口垃圾没人收", Command("route", "小区门口垃圾没人收")),
        ("/ROUTE  小区门口垃圾没人收 ", Command("route", "小区门口垃圾没人收")),
        ("事件", Command("route", "")),
        # A question that merely starts with 事件 is still a question.
        ("事件上报流程是什么", Command("ask", "事件上报流程是什么")),
        ("/router 是什么", Command("ask", "/router 是什么")),
        (
            " 居民在楼道堆放杂物，物业能罚款吗？ ",
            Command("ask", "居民在楼道堆放杂物，物业能罚款吗？"),
        ),
    ],
)
def test_each_line_is_parsed_into_one_command(line, expected):
    assert parse(line) == expected


class _SlowAnswers:
    """Streams part of an answer, then the user presses Ctrl-C (the first time only)."""

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    def stream(self, question):
        self.calls += 1
        try:
            yield AnswerEvent(type="delta", text="部分回答")
            if self.calls == 1:
                raise KeyboardInterrupt
            yield AnswerEvent(type="delta", text="完整回答")
        finally:
            self.closed = True


def _fake_shell() -> tuple[Shell, _SlowAnswers, io.StringIO]:
    answers = _SlowAnswers()
    services = SimpleNamespace(answers=answers, kb=SimpleNamespace(documents=list), llm=None)
    buf = io.StringIO()
    return Shell(services, Console(file=buf, width=100)), answers, buf  # type: ignore[arg-type]


def test_ctrl_c_while_answering_cancels_that_answer_and_the_session_goes_on():
    shell, answers, buf = _fake_shell()
    assert shell.handle("城市道路上乱扔垃圾罚多少钱") is True
    assert "已取消本次回答" in buf.getvalue() and answers.closed
    assert shell.handle("再问一次") is True
    assert "完整回答" in buf.getvalue()
    assert shell.handle("退出") is False


def test_plain_reader_echoes_each_line_and_returns_none_at_end_of_input():
    out = io.StringIO()
    read = plain_reader(io.StringIO("第一行\r\n\n"), Console(file=out, width=100))
    assert [read(), read(), read()] == ["第一行", "", None]
    assert out.getvalue().splitlines()[0] == "问> 第一行"


def test_a_session_with_only_help_and_empty_lines_never_answers():
    shell, answers, buf = _fake_shell()
    lines = iter(["帮助", "", "   ", "退出", "不会被读到"])
    shell.run(lambda: next(lines))
    text = buf.getvalue()
    assert answers.calls == 0
    assert "燃气公司上门安检不让进屋会被罚款吗" in text and "/route" in text
    assert text.rstrip().endswith("再见。")


def _run_shell(home, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COPILOT_HOME": str(home),
        "COPILOT_LLM_BACKEND": "none",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "copilot.cli", "shell"],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        check=False,
    )


def _after_banner(stdout: str) -> list[str]:
    lines = [line.rstrip() for line in stdout.splitlines()]
    return lines[2:]  # banner: the index line and the how-to line


def test_piped_session_help_lists_examples_and_empty_lines_do_nothing(bundled_kb, bundled_settings):
    result = _run_shell(bundled_settings.home, "帮助\n\n   \n退出\n城市道路上乱扔垃圾罚多少钱\n")
    assert result.returncode == 0, result.stderr
    assert "108 部法规已索引" in result.stdout
    lines = _after_banner(result.stdout)
    assert lines[0] == "问> 帮助"
    help_block = "\n".join(lines)
    for example in (
        "燃气公司上门安检不让进屋会被罚款吗",  # policy
        "渝中区65岁以上人口占比多少？",  # indicator
        "事件 渝北区两路街道空港大道有个井盖不见了",  # routing with a prefix
        "/route",
        "退出",
    ):
        assert example in help_block
    # The empty lines print nothing but the next prompt; 退出 ends before the last line.
    tail = lines[lines.index("问>") :]
    assert tail == ["问>", "问>", "问> 退出", "再见。"]
    assert "citations" not in result.stdout  # no question was answered


def test_piped_session_answers_a_question_with_a_citation_and_ends_at_eof(
    bundled_kb, bundled_settings
):
    result = _run_shell(bundled_settings.home, "城市道路上乱扔垃圾罚多少钱\n")
    assert result.returncode == 0, result.stderr
    text = "\n".join(_after_banner(result.stdout))
    assert text.startswith("问> 城市道路上乱扔垃圾罚多少钱")
    assert "引用 citations:" in text
    assert re.search(r"\[1\] 《[^》]+》第[^条]+条", text), text
    assert text.endswith("再见。")
