"""评测: run a bundled eval suite and read its figures and failures."""

from __future__ import annotations

import json

import gradio as gr
import pandas as pd

from evals.suites import SUITES, run_suite
from ui.context import UiContext, friendly


def build(ctx: UiContext) -> None:
    with gr.Row():
        suite = gr.Dropdown(
            [(f"{name}：{suite.title_zh}", name) for name, suite in SUITES.items()],
            value="routing",
            label="评测集",
            scale=4,
        )
        run = gr.Button("运行评测", variant="primary", scale=1, elem_id="run-eval")
    headline = gr.HTML(elem_id="eval-headline")
    metrics = gr.Dataframe(interactive=False, label="指标", elem_id="eval-metrics")
    failures = gr.Dataframe(interactive=False, label="未通过的样例", max_height=300)

    @friendly
    def on_run(name: str, request: gr.Request, progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
        ctx.user(request)
        progress(0, desc="准备中…")

        def tick(done: int, total: int) -> None:
            progress(done / total, desc=f"{done}/{total}")

        report = run_suite(ctx.services, name, tick)
        rows = [[k, v] for k, v in report.metrics.items()]
        fails = [
            [
                f.id,
                f.input,
                json.dumps({"期望": f.expected, "实际": f.got}, ensure_ascii=False),
            ]
            for f in report.failures
        ]
        return (
            f"<p>{report.dataset}（{report.config}）：{report.n} 条，用时 {report.seconds:.1f} 秒，"
            f"未通过 {len(report.failures)} 条</p>",
            pd.DataFrame(rows, columns=["指标", "数值"]),
            pd.DataFrame(fails, columns=["编号", "输入", "期望 / 实际"]),
        )

    run.click(on_run, [suite], [headline, metrics, failures], concurrency_limit=1)
