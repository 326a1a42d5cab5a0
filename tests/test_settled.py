"""A grid report that settled the matter on the spot is owned by the grid (DESIGN: 网格)."""

from __future__ import annotations

import pytest

from copilot.events.settled import settled_on_spot


@pytest.mark.parametrize(
    "text",
    [
        "网格员上报：某小区有住户遛狗不牵绳，狗在花台排便不清理，已当面提醒一次，继续观察。",
        "网格员上报：绿化带被居民挖开种菜约15平方米，已现场劝导，当事人同意恢复。",
        "网格员上报：垃圾桶被丢入烟头起火，已用灭火器扑灭，无人员伤亡。",
        "网格员上报：村民在林边坟头烧纸，已现场劝止并扑灭余火。",
    ],
)
def test_a_grid_report_that_settled_it_says_so(text):
    assert settled_on_spot(text)


@pytest.mark.parametrize(
    "text",
    [
        "网格员上报：村民未办许可开挖地基建房，已劝停未果，请镇规划建设办处理。",
        "网格员上报：有人占道摆摊，已劝离，人一走又摆起来了。",
        "网格员上报：楼道堆满杂物，已提醒住户，仍未清理。",
        "我们已经提醒过物业好几次了，楼道的灯还是不亮。",  # not a grid report
        "网格员上报：化粪池满溢，需要专业单位清掏，已设置警示。",
    ],
)
def test_a_failed_or_handed_on_report_is_not_settled(text):
    assert settled_on_spot(text) is None
