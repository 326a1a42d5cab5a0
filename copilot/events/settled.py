"""Whether a grid worker's report says the matter was settled on the spot.

DESIGN's 网格 tier is "what a grid worker settles on the spot (persuasion, a check, a
reminder, a photo and a report)". A report that says so ("已当面劝导…", "已用灭火器扑灭，无
人员伤亡") is owned by the grid: the order records it and follows up, nobody is lifted.
One that tried and failed ("已劝停未果", "劝导后又…") is not settled.
"""

from __future__ import annotations

import re

SETTLED = re.compile(
    r"已(?:当面|现场|当场|入户|上门|及时|逐户)?(?:劝导|劝止|劝离|劝阻|提醒|制止|扑灭|灭火|清理|"
    r"清除|纠正|整改|处置完毕|处理完毕|处理好|恢复)|已用[^，。；]{1,4}扑灭"
)
# Failure, recurrence or a request for someone else to act, after the settling words.
NOT_SETTLED = re.compile(
    r"未果|无效|无果|不听|拒不|不配合|仍|依旧|又(?!通知)|(?:继续|还在)(?!观察|跟踪|关注)|"
    r"屡劝|反复|请求?(?:区|镇|街道|执法|"
    r"相关部门|上级)|需(?:要)?(?:区|镇|街道|执法|专业|相关部门)|无法"
)
GRID_REPORT = re.compile(r"网格员|网格长|巡查发现|巡河发现")


def settled_on_spot(text: str) -> str | None:
    """The settling words of a grid report that handled the matter itself, else None."""
    if not GRID_REPORT.search(text):
        return None
    m = SETTLED.search(text)
    if m is None or NOT_SETTLED.search(text, m.end()):
        return None
    return m.group(0)
