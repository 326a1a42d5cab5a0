"""The interactive session behind ``copilot shell``.

At a terminal the line is read with prompt_toolkit (file history under the copilot home,
line editing that knows a Chinese character takes two columns, Ctrl-C clears the line,
Ctrl-D exits); otherwise (a pipe, a test) lines are read plainly from stdin. Every
question goes to the :class:`~copilot.services.Services` object, as the one-shot
commands do: this module only reads, dispatches and prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from rich.console import Console
from rich.markup import escape

from copilot.terminal import print_answer_stream, print_route

if TYPE_CHECKING:
    from copilot.services import Services

PROMPT = "问> "
HISTORY_FILE = "shell_history"

EXIT_WORDS = frozenset({"退出", "exit", "quit", "/exit", "/quit"})
HELP_WORDS = frozenset({"帮助", "help", "?", "？", "/help"})
# "事件 …" or "/route …" routes the rest of the line as a citizen's message. The 事件 prefix
# needs a separator so that a question such as "事件上报流程是什么" is still a question.
ROUTE_COMMAND = "/route"
ROUTE_WORD = "事件"
_SEPARATORS = " \t\u3000:：,，"

POLICY_EXAMPLES = ("燃气公司上门安检不让进屋会被罚款吗", "物业条例规定，业主大会要提前几天通知？")
INDICATOR_EXAMPLES = ("渝中区65岁以上人口占比多少？", "哪个区县老龄化程度最高？")
ROUTE_EXAMPLES = (
    "事件 渝北区两路街道空港大道有个井盖不见了",
    "/route 请问重庆市低保怎么申请？",
)


def help_text() -> str:
    """What the shell can do, with example questions (rich markup)."""

    def examples(items: tuple[str, ...]) -> str:
        return "\n".join(f"      例：{escape(q)}" for q in items)

    return "\n".join(
        [
            "[bold]我能做这些事：[/bold]",
            "  [bold]政策问答[/bold]  直接提问，回答引用所依据的条文（第X条）；依据不足时如实说明",
            examples(POLICY_EXAMPLES),
            "  [bold]城市指标[/bold]  区县和全市的人口、老龄化、城镇化、受教育等数据：查询、比较、排名",
            examples(INDICATOR_EXAMPLES),
            "  [bold]事件分派[/bold]  以「事件」或 /route 开头：判断板块、类型、紧急程度和责任单位",
            examples(ROUTE_EXAMPLES),
            "  [bold]其他[/bold]      帮助 / help / ?：显示本说明；退出 / exit / quit 或 Ctrl-D：结束",
            "            回答过程中按 Ctrl-C 取消本次回答；↑ ↓ 翻看历史输入",
        ]
    )


Kind = Literal["empty", "exit", "help", "route", "ask"]


@dataclass(frozen=True)
class Command:
    kind: Kind
    text: str = ""


def parse(line: str) -> Command:
    """Decide what one input line asks for."""
    text = line.strip()
    if not text:
        return Command("empty")
    lowered = text.lower()
    if lowered in EXIT_WORDS:
        return Command("exit")
    if lowered in HELP_WORDS:
        return Command("help")
    for prefix in (ROUTE_COMMAND, ROUTE_WORD):
        if not lowered.startswith(prefix):
            continue
        rest = text[len(prefix) :]
        if not rest:
            return Command("route")
        if rest[0] in _SEPARATORS:
            return Command("route", rest.strip(_SEPARATORS))
    return Command("ask", text)


LineReader = Callable[[], "str | None"]


def plain_reader(stream: TextIO, console: Console) -> LineReader:
    """Lines from a pipe; each is echoed after the prompt so the output reads as a transcript."""

    def read() -> str | None:
        try:
            line = stream.readline()
        except KeyboardInterrupt:
            console.print()
            return ""
        if not line:
            return None
        line = line.rstrip("\r\n")
        console.print(f"{PROMPT}{line}", markup=False, highlight=False)
        return line

    return read


def prompt_reader(history_file: Path | None) -> LineReader:
    """prompt_toolkit at a terminal: history, CJK-aware editing, Ctrl-C clears the line."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    history: History = InMemoryHistory()
    if history_file is not None:
        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            history_file.touch(exist_ok=True)
            history = FileHistory(str(history_file))
        except OSError:
            pass  # a read-only home still gets a session, without saved history
    session: PromptSession[str] = PromptSession(
        history=history, auto_suggest=AutoSuggestFromHistory(), enable_history_search=True
    )

    def read() -> str | None:
        while True:
            try:
                return session.prompt(PROMPT)
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt drops the line, never the session
            except EOFError:
                return None

    return read


def interactive(stdin: TextIO, stdout: TextIO) -> bool:
    return stdin.isatty() and stdout.isatty()


class Shell:
    def __init__(self, services: Services, console: Console) -> None:
        self.services = services
        self.console = console

    def banner(self) -> str:
        n_docs = len(self.services.kb.documents())
        backend = self.services.llm.name if self.services.llm else "抽取式（不用大模型）"
        return (
            f"[bold]数字重庆治理助手[/bold] — {n_docs} 部法规已索引，回答方式：{escape(backend)}。\n"
            "输入问题后回车；「帮助」查看能做什么和示例，「退出」或 Ctrl-D 结束。"
        )

    def handle(self, line: str) -> bool:
        """Act on one line; ``False`` ends the session."""
        command = parse(line)
        if command.kind == "exit":
            return False
        if command.kind == "help":
            self.console.print(help_text())
        elif command.kind == "route":
            self._guarded(self._route, command.text)
        elif command.kind == "ask":
            self._guarded(self._ask, command.text)
        return True

    def run(self, read: LineReader) -> None:
        self.console.print(self.banner())
        while True:
            line = read()
            if line is None:  # Ctrl-D or end of input
                self.console.print()
                break
            if not self.handle(line):
                break
        self.console.print("再见。")

    def _ask(self, question: str) -> None:
        print_answer_stream(self.services.answers.stream(question), self.console)

    def _route(self, text: str) -> None:
        if not text:
            self.console.print(f"请在「事件」后写上事件内容，例如：{ROUTE_EXAMPLES[0]}")
            return
        with self.console.status("正在分析事件…"):
            decision = self.services.route(text)
        print_route(decision, self.console)

    def _guarded(self, action: Callable[[str], None], text: str) -> None:
        """Ctrl-C cancels this answer and returns to the prompt; an error ends only this answer."""
        try:
            action(text)
        except KeyboardInterrupt:
            self.console.print("\n[yellow]已取消本次回答。[/yellow]")
        except Exception as exc:  # the session outlives one failed answer
            self.console.print(
                f"\n[red]出错了，本次没有回答：[/red]{escape(f'{type(exc).__name__}: {exc}')}"
            )


def run_shell(
    services: Services,
    console: Console,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Open the session on the real terminal, or read plainly when stdin is not a TTY."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if interactive(stdin, stdout):
        read = prompt_reader(Path(services.settings.home) / HISTORY_FILE)
    else:
        read = plain_reader(stdin, console)
    Shell(services, console).run(read)
