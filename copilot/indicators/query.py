"""Indicator questions: parse Chinese questions into structured queries and answer them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from copilot.indicators.library import STATUS_ZH, IndicatorDef
from copilot.indicators.store import IndicatorStore, IndicatorValue

Kind = Literal["value", "compare", "rank", "total"]

_CN_ORDINAL = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_ASC = ("最低", "最少", "最小", "最轻", "最短", "倒数", "最年轻", "垫底")
_SUPERLATIVE = (
    "最高",
    "最多",
    "最大",
    "最重",
    "最长",
    "最严重",
    "排名",
    "排第",
    "前三",
    "前五",
    "前十",
    "第一",
    "第二",
    "第三",
    *_ASC,
)
_QUANTITY = (
    "多少",
    "几",
    "占比",
    "比重",
    "比例",
    "率",
    "是多少",
    "排名",
    "哪个",
    "哪一个",
    "哪些",
    "比较",
    "对比",
    "高还是",
    "多还是",
    "低还是",
    "少还是",
    "谁",
    "数据",
    "情况",
    "规模",
    "程度",
    "水平",
)
# Comparisons and rankings however they are worded: 比…多吗, 哪个多, 多不多, 更高, 相比.
_COMPARISON = re.compile(
    r"比.{1,12}?(?:多|少|高|低|大|小|严重|年轻|老)|更(?:多|少|高|低|大|小|严重)|相比|差距|差多少"
    r"|(?:多|高|大|少|低)不(?:多|高|大|少|低)|哪(?:个|一个|边|里|家)?.{0,8}(?:多|少|高|低|大|小)"
    r"|谁.{0,6}(?:多|少|高|低|大|小)|排(?:前|后|第|名)|靠前|靠后|对比"
)
_POLICY_CUE = re.compile(r"《|条例|办法|法律|法规|规定|第[一二三四五六七八九十百零\d]+条|罚款|处罚")
_CITY = ("全市", "重庆市", "全重庆", "重庆全市", "重庆", "合计", "总共", "一共", "全部区县")


class IndicatorQuery(BaseModel):
    """A structured indicator request: the query_indicator tool's input."""

    indicator: str = Field(description="Indicator key, e.g. share_age_65_plus_pct.")
    kind: Kind = "value"
    regions: list[str] = Field(default_factory=list, description="Region names (full or short).")
    order: Literal["desc", "asc"] = "desc"
    position: int = Field(default=1, ge=1, description="1 = first, 2 = second, ... in the ranking.")
    top_n: int = Field(default=1, ge=1, le=38)
    region_type: Literal["district", "county"] | None = Field(
        default=None, description="Restrict rankings to 区 (district) or 县 (county)."
    )


class IndicatorRow(BaseModel):
    region_code: str
    region_name: str
    value: float
    display: str
    status: str
    rank: int | None = None


class IndicatorResult(BaseModel):
    """Answer of the query_indicator tool: value(s) with unit, year and source."""

    query: IndicatorQuery
    indicator_name: str
    unit: str
    year: int
    source: str
    rows: list[IndicatorRow]
    answer: str
    derived: bool = False
    error: str | None = None


def _ordinal(text: str) -> int:
    if m := re.search(
        r"第([一二两三四五六七八九十]|\d+)(?:高|多|大|低|少|小|名|位)"
        r"|排(?:在)?(?:全市|全重庆)?第([一二两三四五六七八九十]|\d+)",
        text,
    ):
        g = m.group(1) or m.group(2)
        return int(g) if g.isdigit() else _CN_ORDINAL[g]
    return 1


def _top_n(text: str) -> int:
    if m := re.search(r"前([一二两三四五六七八九十]|\d+)", text):
        g = m.group(1)
        return int(g) if g.isdigit() else _CN_ORDINAL[g]
    return 1


def _region_type(text: str) -> Literal["district", "county"] | None:
    if "区县" in text:
        return None
    if re.search(r"(哪个|哪一个|哪些|的|个)县", text):
        return "county"
    if re.search(r"(哪个|哪一个|哪些|的|个)区(?!县)", text):
        return "district"
    return None


def parse_indicator_question(text: str, store: IndicatorStore) -> IndicatorQuery | None:
    """A structured query when ``text`` asks for an indicator value, else ``None``."""
    # A question about what a regulation says is a policy question even when it asks
    # "how many households" (e.g. 《…条例》规定一个网格员最多负责多少户).
    if _POLICY_CUE.search(text):
        return None
    ind = store.library.find_in_text(text)
    if ind is None or not (any(w in text for w in _QUANTITY) or _COMPARISON.search(text)):
        return None
    regions = [d.name for d in store.hierarchy.find_districts(text)]
    superlative = any(w in text for w in _SUPERLATIVE)
    # 少数民族, 少儿 and 多少 name things or ask amounts; they are not "fewer".
    cues = re.sub(r"少数民族|少年|少儿|多少|比重|比例", "", text)
    asks_low = re.search(
        r"(?:哪|谁).{0,8}(?:少|低|小|轻)|更(?:少|低|小)|比.{1,12}?(?:少|低|小)", cues
    )
    order = "asc" if any(w in text for w in _ASC) or asks_low else "desc"
    if len(regions) >= 2:
        kind: Kind = "compare"
    elif len(regions) == 1:
        kind = "value"
    elif superlative or re.search(r"哪(个|一个|些)(区|县)", text) or _COMPARISON.search(text):
        kind = "rank"
    elif any(w in text for w in _CITY):
        kind = "total"
    else:
        return None
    return IndicatorQuery(
        indicator=ind.key,
        kind=kind,
        regions=regions,
        order=order,
        position=_ordinal(text) if kind == "rank" else 1,
        top_n=_top_n(text) if kind == "rank" else 1,
        region_type=_region_type(text) if kind == "rank" else None,
    )


def _row(ind: IndicatorDef, v: IndicatorValue, rank: int | None = None) -> IndicatorRow:
    return IndicatorRow(
        region_code=v.region_code,
        region_name=v.region_name,
        value=v.value,
        display=ind.format(v.value),
        status=ind.status(v.value),
        rank=rank,
    )


def _status_note(row: IndicatorRow) -> str:
    return f"（指标状态：{STATUS_ZH[row.status]}）" if row.status != "none" else ""


def run_indicator_query(query: IndicatorQuery, store: IndicatorStore) -> IndicatorResult:
    """Answer a structured query from the store; an unknown region or indicator is an error result."""
    try:
        ind = store.library.get(query.indicator)
    except KeyError:
        known = "、".join(i.key for i in store.library.indicators)
        return _error(query, f"未知指标 {query.indicator}（可用：{known}）", store)
    source = store.library.sources["census2020"]
    base = {
        "query": query,
        "indicator_name": ind.name,
        "unit": ind.unit,
        "year": source.year,
        "source": source.title,
    }
    when = f"（{source.title}）"

    if query.kind in ("value", "compare"):
        codes = []
        for name in query.regions:
            found = store.hierarchy.find_districts(name)
            if not found:
                return _error(query, f"未找到区县“{name}”，请使用重庆市区县名称", store)
            codes.append(found[0].code)
        values = [v for c in codes if (v := store.get(ind.key, c)) is not None]
        if not values:
            return _error(query, f"没有{ind.name}的数据", store)
        rows = [_row(ind, v) for v in values]
        if query.kind == "value" or len(rows) == 1:
            r = rows[0]
            answer = f"{r.region_name}{ind.name}为{r.display}{when}{_status_note(r)}。"
        else:
            ranked = sorted(rows, key=lambda r: -r.value)
            if query.order == "asc":
                ranked.reverse()
            parts = "，".join(f"{r.region_name}{r.display}" for r in rows)
            count = ind.unit in ("人", "户")
            word = (
                ("更少" if count else "更低")
                if query.order == "asc"
                else ("更多" if count else "更高")
            )
            answer = f"{ind.name}：{parts}；{ranked[0].region_name}{word}{when}。"
            rows = ranked
        return IndicatorResult(**base, rows=rows, answer=answer)

    if query.kind == "total":
        v = store.get(ind.key, store.hierarchy.city.code)
        if v is None:
            return _error(query, f"没有全市{ind.name}的数据", store)
        r = _row(ind, v)
        how = "（由38个区县数据汇总）" if v.derived else ""
        return IndicatorResult(
            **base,
            rows=[r],
            derived=v.derived,
            answer=f"重庆市{ind.name}为{r.display}{how}{when}。",
        )

    values = store.by_tier(ind.key, "district")
    if query.region_type:
        values = [v for v in values if v.region_type == query.region_type]
    ordered = sorted(values, key=lambda v: v.value, reverse=query.order == "desc")
    rows = [_row(ind, v, rank=i) for i, v in enumerate(ordered, 1)]
    start = query.position - 1
    picked = rows[start : start + max(query.top_n, 1)]
    if not picked:
        return _error(query, "排名超出范围", store)
    scope = {"district": "区", "county": "县"}.get(query.region_type or "", "区县")
    word = "最高" if query.order == "desc" else "最低"
    if query.position > 1:
        word = f"第{query.position}{'高' if query.order == 'desc' else '低'}"
    listing = "、".join(f"{r.region_name}（{r.display}）" for r in picked)
    head = (
        f"{ind.name}{word}的{scope}"
        if len(picked) == 1
        else f"{ind.name}{'前' if query.order == 'desc' else '后'}{len(picked)}位的{scope}"
    )
    return IndicatorResult(**base, rows=picked, answer=f"{head}：{listing}{when}。")


def _error(query: IndicatorQuery, message: str, store: IndicatorStore) -> IndicatorResult:
    source = store.library.sources["census2020"]
    return IndicatorResult(
        query=query,
        indicator_name="",
        unit="",
        year=source.year,
        source=source.title,
        rows=[],
        answer=message,
        error=message,
    )
