"""What a question asks for (its slot) and whether a span of law text supplies it.

A question asking "罚多少" is answered only by a span with an amount; "几天内" only by a
span with a time limit. The reranker uses the match as a feature, the answer chooses the
款/项 that holds the slot, and the refusal policy refuses when no candidate holds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

Slot = Literal["amount", "time", "who", "permission", "penalty", "procedure", "general"]

SLOT_ZH: dict[str, str] = {
    "amount": "具体金额或数额",
    "time": "具体期限或时间",
    "who": "责任主体或主管部门",
    "permission": "是否允许",
    "penalty": "相应的处罚",
    "procedure": "办理程序和条件",
    "general": "相关规定",
}

_NUM = r"[\d零〇一二三四五六七八九十百千万两半]+"
# Amounts: money, shares, counts of people or households, areas, multiples.
AMOUNT_SPAN = re.compile(
    rf"{_NUM}\s*(?:元|万元|倍|%|％|分之|人|户|名|平方米|米|公里|辆|个|台|次|分贝|学时|课时|学分|周岁|岁|吨|亩|公顷)"
    r"|百分之[零一二三四五六七八九十百]+|[三四五六七八九十]分之[一二三四五六七八九十]"
)
FINE_SPAN = re.compile(r"罚款|没收|吊销|拘留|警告|处分|处以|罚金|暂扣")
TIME_SPAN = re.compile(
    rf"{_NUM}\s*(?:个)?(?:工作日|日|天|小时|个月|月|年|周|星期|分钟)"
    r"|每(?:年|季度|月|半年|周)|及时|立即|定期|届满|之日起|以前|以内|期限|期间"
)
WHO_SPAN = re.compile(
    r"部门|机关|人民政府|委员会|办事处|机构|单位|公司|企业|物业服务人|业主|居民|村民"
    r"|负责|主管|承担|组织实施|牵头"
)
PERMISSION_SPAN = re.compile(
    r"禁止|不得|严禁|应当|可以|有权|允许|准许|必须|不准|须经|经.{0,12}批准"
)
PROCEDURE_SPAN = re.compile(r"申请|提交|材料|审核|审批|登记|备案|程序|办理|受理|条件|核发|公示")

_Q_AMOUNT = re.compile(
    r"多少钱|罚多少|罚好多|好多钱|多少元|金额|标准是多少|补贴多少|补助多少|多少|几成|百分之几"
    r"|好多|几多|几倍"
    r"|几个人|几名|几户|比例|占比|多大|多宽|多高|几米|几倍|多少人"
)
_Q_TIME = re.compile(
    r"几天|几日|多少天|多少日|多久|多长时间|多长|几个月|几年|多少年|期限|时限|什么时候|何时"
    r"|哪天|最晚|最迟|提前|几小时|多少小时|频次|多频繁|间隔|每隔|一年几次|多久一次|有效期"
    r"|好多天|好多年|好多个月|好多小时|好久"
)
_Q_WHO_FIRST = re.compile(
    r"由谁|谁来|谁负责|谁决定|谁确定|谁批准|谁审批|哪个部门(?:来)?(?:定|确定|决定|批准)"
)
_Q_WHO = re.compile(
    r"谁|哪个部门|哪些部门|哪个单位|哪家|找哪|归哪|由哪|什么部门|哪级|主管部门|哪个机关|哪里管"
    r"|哪个管|归谁|负责部门|责任主体|哪方|哪一级"
)
_Q_PENALTY = re.compile(r"罚|处罚|处分|追究|法律责任|拘留|没收|吊销|后果|遭")
_Q_PERMISSION = re.compile(
    r"能不能|能否|可不可以|可以吗|可以不|能吗|行不行|行吗|是否可以|允许|准不准|要得不|得行不|能.{0,12}吗"
    r"|可以.{0,12}吗|有没有权|是否必须|必须|一定要|需不需要|需要.{0,12}吗|要不要|得不得|是否应当|是否需要|禁止"
)
_Q_PROCEDURE = re.compile(
    r"怎么|如何|咋个|咋办|怎样|程序|流程|手续|条件|需要什么|要什么材料|步骤|申请"
)


# "那几天", "十几个人", "好几次" describe, they do not ask.
_NOT_ASKING = re.compile(r"[那这]几|[十百千万]几|好几|几十|几百|几千")


def question_slot(question: str) -> Slot:
    """The kind of fact a question asks for; ``general`` when no slot is clear.

    Order matters: "罚多少" asks an amount (not just whether there is a penalty), "几天内"
    a time, "谁负责" a body; yes/no questions about penalties come before permission
    ("会被罚吗" is answered by a penalty clause, "能不能" by a rule).
    """
    if _Q_WHO_FIRST.search(question):
        return "who"  # "频次由谁来确定" asks who decides, not how often
    question = _NOT_ASKING.sub("", question)
    if _Q_TIME.search(question):
        return "time"
    if _Q_AMOUNT.search(question):
        return "amount"
    if _Q_WHO.search(question):
        return "who"
    if _Q_PENALTY.search(question):
        return "penalty"
    if _Q_PERMISSION.search(question):
        return "permission"
    if _Q_PROCEDURE.search(question):
        return "procedure"
    return "general"


def span_has_slot(span: str, slot: Slot) -> bool:
    """Whether ``span`` can supply the asked slot."""
    if slot == "amount":
        return bool(AMOUNT_SPAN.search(span))
    if slot == "time":
        return bool(TIME_SPAN.search(span))
    if slot == "who":
        return bool(WHO_SPAN.search(span))
    if slot == "penalty":
        return bool(FINE_SPAN.search(span))
    if slot == "permission":
        return bool(PERMISSION_SPAN.search(span))
    if slot == "procedure":
        return bool(PROCEDURE_SPAN.search(span))
    return True


def slot_vector(span: str) -> dict[str, float]:
    """Which slots a span could answer, as 0/1 features."""
    return {
        "has_amount": float(bool(AMOUNT_SPAN.search(span))),
        "has_money": float("元" in span),
        "has_fine": float(bool(FINE_SPAN.search(span))),
        "has_time": float(bool(TIME_SPAN.search(span))),
        "has_who": float(bool(WHO_SPAN.search(span))),
        "has_permission": float(bool(PERMISSION_SPAN.search(span))),
        "has_procedure": float(bool(PROCEDURE_SPAN.search(span))),
    }


# Words that say how a figure is asked for, not what it is about.
_GENERIC = frozenset(
    "规定 按照 按 根据 条例 办法 法 现在 目前 一般 具体 最多 最少 至少 最高 最低 最长 最短 每个 每月 每年 "
    "每个月 每人 每次 一次 要 交 收 能 可以 必须 需要 应当 重庆 重庆市 本市 主城 我们 我 他们 一共 总共 "
    "大概 标准 多少 多少钱 多久 几年 几天 几个 个人 单位 会 被 遭 罚 罚款 处罚 处 元 钱 要求 情况 时间 "
    "期限 时限 里 讲 说 问 请问 下 上 哦 嘛 啊".split()
)
_CLAUSE_END = re.compile(r"[，,。？?！!；;：:]")
_SENTENCE_END = re.compile(r"(?<=[。；;！？])")


def focus_terms(question: str, words: Callable[[str], list[str]]) -> list[str]:
    """What a figure question is about: content words of the clause that asks it.

    "工会会员每个月要交多少会费" → [工会, 会员, 会费]; falls back to the whole question's
    content words when the asking clause holds none ("个人要罚多少").
    """
    clauses = [c for c in _CLAUSE_END.split(question) if c.strip()]
    cue = next((c for c in clauses if _Q_AMOUNT.search(c) or _Q_TIME.search(c)), question)

    def content(text: str) -> list[str]:
        return [w for w in dict.fromkeys(words(text)) if len(w) >= 2 and w not in _GENERIC]

    return content(cue) or content(question)


def focus_coverage(span: str, slot: Slot, focus: Sequence[str]) -> float:
    """Share of the focus words found in a sentence of ``span`` that holds the slot.

    A fine of 五千元 in a sentence about medical waste does not answer "生活垃圾分类罚多少":
    the figure must sit with the thing asked about.
    """
    if not focus:
        return 1.0 if span_has_slot(span, slot) else 0.0
    best = 0.0
    for sentence in _SENTENCE_END.split(span.replace("……", "。")):
        if sentence and span_has_slot(sentence, slot):
            best = max(best, sum(1 for w in focus if w in sentence) / len(focus))
    return best


# What counts as stating a figure when a question asks for one (stricter than the
# feature patterns above): money needs 元 or a share, a time needs a number of days,
# months... or a fixed period; a fine answers only a question about fines.
_Q_MONEY = re.compile(r"钱|费|价|补贴|补助|奖|工资|薪|金|罚|赔")
_MONEY_FIGURE = re.compile(rf"{_NUM}\s*(?:元|万元|倍)|百分之|{_NUM}\s*[%％]|[三四五六七八九十]分之")
_TIME_FIGURE = re.compile(
    rf"{_NUM}\s*(?:个)?(?:工作日|日|天|小时|个月|月|年|周|星期|分钟)|每(?:年|季度|月|半年|周)|立即|即时"
)
_FINE_SENTENCE = re.compile(r"罚款|罚金|处以|没收")


def states_asked_figure(span: str, question: str, slot: Slot) -> bool:
    """Whether a sentence of ``span`` states the kind of figure the question asks for."""
    asks_fine = bool(_Q_PENALTY.search(question))
    for sentence in _SENTENCE_END.split(span.replace("……", "。")):
        if slot == "time" and _TIME_FIGURE.search(sentence):
            return True
        if slot != "amount":
            continue
        if not asks_fine and _FINE_SENTENCE.search(sentence):
            continue  # a fine's amount does not answer "what does the benefit pay"
        pattern = _MONEY_FIGURE if _Q_MONEY.search(question) else AMOUNT_SPAN
        if pattern.search(sentence):
            return True
    return False
