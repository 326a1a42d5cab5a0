"""智能问答: streaming answers, the conclusion first, citations that open to the article."""

from __future__ import annotations

import gradio as gr

from copilot.answers.models import Answer
from ui.context import UiContext, fail, friendly
from ui.render import answer_markdown, citations_html

QUESTION_CHARS = 2000
EXAMPLES = [
    "燃气公司上门安检不让进屋会被罚款吗",
    "在城市主干道上洗车会被罚多少钱？",
    "请问重庆市低保怎么申请？",
    "渝中区和渝北区哪个人口多？",
    "物业条例规定，业主大会要提前几天通知？",
]


def build(ctx: UiContext) -> None:
    chat = gr.Chatbot(label="智能问答", height=380, elem_id="chat", buttons=["copy"])
    with gr.Row():
        question = gr.Textbox(
            placeholder="输入政策或城市数据问题，例如：占道经营怎么处罚？",
            show_label=False,
            scale=8,
            max_lines=4,
            elem_id="question",
        )
        send = gr.Button("提问", variant="primary", scale=1, elem_id="ask-button")
    gr.Examples(EXAMPLES, inputs=question, label="示例问题")
    citations = gr.HTML(elem_id="citations")

    @friendly
    def ask(q: str, history: list, request: gr.Request):
        ctx.user(request)
        q = (q or "").strip()
        if not q:
            raise fail("请输入问题")
        if len(q) > QUESTION_CHARS:
            raise fail(f"问题过长（{len(q)} 字），请控制在 {QUESTION_CHARS} 字以内")
        history = [*history, {"role": "user", "content": q}, {"role": "assistant", "content": ""}]
        yield history, "", '<p class="cq-muted">正在检索条文…</p>'
        final: Answer | None = None
        text = ""
        for event in ctx.services.ask_stream(q):
            if event.type == "delta":
                text += event.text
                history[-1]["content"] = text
                yield history, "", gr.skip()
            else:
                final = event.answer
        if final is None:
            raise fail("未能生成回答，请稍后重试")
        history[-1]["content"] = answer_markdown(final)
        sources = [ctx.services.source_text(c.chunk_id) for c in final.citations]
        yield history, "", citations_html(final.citations, sources)

    for trigger in (send.click, question.submit):
        trigger(ask, [question, chat], [chat, question, citations], concurrency_limit=4)
