"""Urgency from what a report means, not from literal keyword strings.

Danger is a combination of concepts — a harm (bite, fall, injury) and a vulnerable person
(child, elderly), gas and a smell, a crack and a collapse risk — and people write them in
any order with words in between ("咬伤了一个小孩", "小孩被狗咬伤"). Each rule is a set of
concept patterns that must all occur within one sentence-sized window, in any order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from copilot.catalogue import EventType
from copilot.vocabulary import MessageType, Urgency

# Concepts: alternatives written as regular expressions.
# "120" only as the ambulance number (打120, 120来了), never in "约120平方米".
_INJURY = r"(受伤|摔倒了|有人摔倒|已经有人摔|咬伤|咬了|抓伤|摔伤|烫伤|烧伤|砸伤|撞伤|割伤|划伤|流血|出血|骨折|晕倒|昏迷|休克|不省人事|抽搐|送医|送到医院|(?:打|拨|叫|喊)了?\s*120|(?<!\d)120(?=急救|救护|来了|车)|急救|救护车|死亡|身亡|遇难|伤亡|伤者|injur|bleed|bitten|unconscious)"
_VULNERABLE = r"(小孩|孩子|儿童|小朋友|娃儿|幼儿|婴儿|学生|老人|老年人|婆婆|爷爷|奶奶|孕妇|残疾人|病人|瘫痪|独居|child|kid|elderly|old man|old woman)"
_BITE = r"(咬|扑|追着|攻击|bit|attack)"
_GAS = r"(燃气|煤气|天然气|液化气|气罐|gas)"
_SMELL = r"(味|闻到|泄漏|泄露|漏气|嘶嘶|smell|leak)"
_FIRE = r"(着火|起火|失火|火灾(?!隐患|风险|危险)|火势|爆炸|炸了|on fire|explosion)"
# Flames and smoke are a fire only where nothing is being burnt on purpose (rubbish, straw,
# crop stalks, barbecue): "人一走又烧起来了" is the same burning starting again.
_FLAMES = r"(燃起来|烧起来|明火|火苗)"
_SMOKE = r"(冒烟|浓烟|smoke)"
_BURNING_ON_PURPOSE = re.compile(
    r"(烧烤|油烟|焚烧|烧纸|烧东西|烧塑料|燃放|火炮|burn|"
    r"烧[^，。！？；\s]{0,3}(秆|杆|秸|草|叶|柴|垃圾|废|轮胎|麦|谷))",
    re.I,
)
_STRUCTURE = r"(墙|房子|房屋|楼|屋|堡坎|挡墙|边坡|山体|天花板|屋顶|阳台|招牌|广告牌|棚|桥|wall|house|building|roof|ceiling)"
# Stones coming off a wall or slope are a collapse under way, not a risk to come.
_COLLAPSE = (
    r"(要垮|会垮|快垮|垮塌|垮了|要倒|快倒|倒塌|塌了|塌方|坍塌|崩塌|掉下来|坠落|随时|摇摇欲坠|"
    r"掉石头|落石|滚石|collapse|fall down)"
)
_CRACK = r"(开裂|裂缝|裂开|鼓包|变形|倾斜|下沉|沉降|crack|lean)"
_WATER = r"(水|淹|洪|涝|flood|water)"
_HOME_IN = (
    r"(进了?屋|进屋|进家|灌进|倒灌|漫进|淹了|淹到|进水|齐腰|齐膝|flooded|into (the )?(house|home))"
)
_ESCAPE = r"(消防通道|安全出口|疏散通道|逃生通道|楼梯间|消防门|逃生|fire exit|escape)"
_BLOCKED = r"(堵|占|锁|封死|封住|挡住|堆满|堆放|block|lock)"
_TRAPPED = r"(被困|困在|困人|困住|困了|困着|出不来|关在|trapped|stuck)"
_ELECTRIC = r"(电线|高压线|电缆|电杆|变压器|power line|wire)"
_DANGER_NOW = r"(落地|断了|掉下|垂到地|冒火花|火花|漏电|触电|down|spark)"
_WATER_PERSON = r"(落水|溺水|掉进|掉到河|掉到水|冲走|drown)"
_LIFE = r"(生命危险|救命|求救|出人命|快来人|呼吸机|help)"
_VIOLENCE = r"(殴打|打人|打架|持刀|拿刀|动刀|家暴|抢劫|抢钱|欺凌|斗殴|砍人|assault|fight)"
_MISSING = r"(联系不上|无回应|没有回应|失联|走失|找不到了|拉着|抱走|带走|拐|missing)"
_CONTACT = r"(挂在|碰到|搭在|缠在|压在)"


@dataclass(frozen=True)
class UrgencyRule:
    label: str
    concepts: tuple[str, ...]
    window: int = 40
    unless: re.Pattern[str] | None = None  # the rule does not hold where this occurs


URGENT_RULES: tuple[UrgencyRule, ...] = (
    UrgencyRule("有人受伤", (_INJURY,), window=0),
    UrgencyRule("危及老人儿童等弱势人员", (_VULNERABLE, _BITE)),
    UrgencyRule("燃气泄漏气味", (_GAS, _SMELL), window=20),
    UrgencyRule("火情", (_FIRE,), window=0),
    UrgencyRule("火情", (_FLAMES,), window=0, unless=_BURNING_ON_PURPOSE),
    UrgencyRule("火情", (_SMOKE,), window=0, unless=_BURNING_ON_PURPOSE),
    UrgencyRule("房屋或构筑物有垮塌危险", (_STRUCTURE, _COLLAPSE)),
    UrgencyRule("房屋开裂有垮塌危险", (_CRACK, _COLLAPSE)),
    UrgencyRule("水进入居民家中", (_WATER, _HOME_IN), window=20),
    UrgencyRule("逃生通道被堵", (_ESCAPE, _BLOCKED), window=20),
    UrgencyRule("有人被困", (_TRAPPED,), window=0),
    UrgencyRule("电线断落或漏电", (_ELECTRIC, _DANGER_NOW), window=20),
    UrgencyRule("有人落水", (_WATER_PERSON,), window=0),
    UrgencyRule("危及生命", (_LIFE,), window=0),
    UrgencyRule("正在发生人身侵害", (_VIOLENCE,), window=0),
    UrgencyRule("老人或儿童下落不明或有危险", (_VULNERABLE, _MISSING)),
    UrgencyRule("树枝或异物搭挂电线", (_CONTACT, _ELECTRIC), window=10),
)

# Spreading, wide or hazardous — not merely recurring: a nuisance "every night" is still
# 一般 unless it spreads, affects many households or puts people at risk.
PRESSING = re.compile(
    r"(整栋|整个小区|一整片|大面积|几百户|上百户|几十户|好几栋|越来越|蔓延|扩大|"
    r"停水|停电|停气|没水|没电|没气|漫出|外溢|冒出来|涌出|爆管|爆裂|"
    r"安全隐患|隐患|随时可能|随时会|危险|悬在|倾斜|松动|脱落|超警戒|预警|超标|"
    r"几十名|几十个人|上百人|聚集|围堵|堵门|拉横幅|情绪激动|报警|110|"
    r"继续|还在往|加宽|裂缝|开裂|起鼓|鼓包|满溢|溢出|上百|几百|大批|成片|"
    r"(好多|十几|几十)(户|家)|超限|阈值|限值|消防车?通道|"
    r"spreading|dangerous|hazard|many households)"
)
# Negations, hypotheticals and past occasions close before a concept cancel it ("没有人受伤",
# "未发现明火", "万一燃起来", "有一回救护车都开不进来"): they describe a risk, which is 较急
# at most.
_NEGATION = re.compile(
    r"(没有|没|未|无|不是|并非|差点|险些|防止|以免|万一|如果|要是|担心|怕|以防|"
    r"有一回|有一次|上次|上回|曾经|"
    r"no |not |without |if )(人|任何人|造成|发现|哪天)?$"
)
# A clause that starts in the past tells history ("上个月有户人家着火，消防车开不进来"):
# the danger is a reason to act, not an emergency now.
_PAST_CLAUSE = re.compile(
    r"(上个?月|上个?星期|上个?礼拜|上周|去年|前年|前些年|前几天|前两天|前些天|以前|之前|那次|"
    r"那回|当时|有一回|有一次|上次|上回|曾经)"
)
_CLAUSE_END = re.compile(r"[，,。！!？?；;\n]")


def _clause_before(text: str, pos: int) -> str:
    ends = [m.end() for m in _CLAUSE_END.finditer(text, 0, pos)]
    return text[ends[-1] if ends else 0 : pos]


def _spans(pattern: str, text: str) -> list[int]:
    out = []
    for m in re.finditer(pattern, text, flags=re.IGNORECASE):
        before = text[max(0, m.start() - 6) : m.start()]
        if _NEGATION.search(before) or _PAST_CLAUSE.search(_clause_before(text, m.start())):
            continue
        out.append(m.start())
    return out


def _holds(rule: UrgencyRule, text: str) -> bool:
    if rule.unless is not None and rule.unless.search(text):
        return False
    positions = [_spans(c, text) for c in rule.concepts]
    if any(not p for p in positions):
        return False
    if len(positions) == 1:
        return True
    first, *others = positions
    return any(all(any(abs(a - b) <= rule.window for b in pos) for pos in others) for a in first)


class UrgencyAssessment(BaseModel):
    urgency: Urgency
    reason: str
    danger: str | None = Field(default=None, description="the urgent rule that held, if any")


def assess_urgency(
    event_type: EventType, text: str, message_type: MessageType = "投诉求助"
) -> UrgencyAssessment:
    """Urgency of a report already classified as ``event_type``, with the reason in Chinese.

    紧急: the type is an emergency, or danger is described (``URGENT_RULES``). 较急: an
    active nuisance or a hazard not yet harming anyone — a complaint about a type that is
    such by nature (``pressing_by_nature``), or any report of spreading or wide harm.
    一般: everything else, and every consultation, suggestion or praise. The catalogue's
    per-type ``urgent_keywords`` are not used: as literal strings they made "大量" or
    "涨水" urgent for whatever type won, and missed every rewording.
    """
    if message_type in ("咨询", "建议", "表扬"):
        return UrgencyAssessment(urgency="一般", reason=f"{message_type}类消息，按一般时限办理")
    if event_type.emergency:
        return UrgencyAssessment(urgency="紧急", reason=f"“{event_type.name}”属于突发事件类型")
    for rule in URGENT_RULES:
        if _holds(rule, text):
            return UrgencyAssessment(
                urgency="紧急", reason=f"描述含紧急情形：{rule.label}", danger=rule.label
            )
    m = PRESSING.search(text)
    if m:
        return UrgencyAssessment(urgency="较急", reason=f"危害扩大或影响面大（“{m.group(0)}”）")
    if event_type.pressing_by_nature:
        return UrgencyAssessment(
            urgency="较急", reason=f"“{event_type.name}”属正在发生的扰民或安全隐患"
        )
    return UrgencyAssessment(urgency="一般", reason="未见紧急、扩大或持续危害情形")
