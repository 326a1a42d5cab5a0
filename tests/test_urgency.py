"""Urgency from meaning: word order, inserted words and negation."""

from __future__ import annotations

import pytest

from copilot.catalogue import Catalogue
from copilot.events.urgency import assess_urgency
from tests.conftest import REPO


@pytest.fixture(scope="module")
def ordinary():
    catalogue = Catalogue.load(REPO / "data" / "catalogue" / "event_types.json")
    return catalogue.by_id["GOV-STRAY-DOG"]


@pytest.mark.parametrize(
    "text",
    [
        "流浪狗咬伤了一个小孩",
        "流浪狗咬伤小孩",
        "一个小孩被流浪狗咬伤了",
        "小区里的大狗扑到放学的小学生身上",
        "楼道里闻到好大一股燃气味",
        "天然气好像泄漏了，嘶嘶响",
        "老房子墙体开裂，可能要垮",
        "雨太大，水已经漫进屋头了",
        "商场安全出口被铁链锁住了",
        "独居老人两天联系不上，敲门没人应",
        "电梯里困了三个人",
        "屋后的堡坎鼓起来了，还在往下掉石头",
        "A stray dog bit a child near the school",
        "有人晕倒了，赶紧打120",
        "楼下仓库着火了，烟好大",
        "之前就报过，现在又着火了",
    ],
)
def test_danger_is_urgent_however_it_is_worded(ordinary, text):
    result = assess_urgency(ordinary, text)
    assert result.urgency == "紧急", result.reason


@pytest.mark.parametrize(
    "text",
    [
        "幸好没有人受伤，狗已经跑了",
        "小区门口的垃圾桶满了",
        "担心有火灾隐患，纸箱堆得很高",
        "通道上停满了车，有一回救护车都开不进来",
        "村民在承包地上开挖地基，占用耕地约120平方米",
        "田里到处在烧油菜秆，网格员说了两句，人一走又烧起来了",
        "消防通道被私家车停满，上个月有户人家着火，消防车开不进来",
    ],
)
def test_negated_or_merely_possible_danger_is_not_urgent(ordinary, text):
    assert assess_urgency(ordinary, text).urgency != "紧急"


def test_spreading_hazard_is_pressing(ordinary):
    assert assess_urgency(ordinary, "墙上的裂缝越来越宽，楼里还住着十几户人").urgency == "较急"


def test_emergency_types_are_always_urgent():
    catalogue = Catalogue.load(REPO / "data" / "catalogue" / "event_types.json")
    fire = catalogue.by_id["EMG-FIRE"]
    assert assess_urgency(fire, "那边好像有点烟").urgency == "紧急"


def test_consultations_suggestions_and_praise_are_ordinary(ordinary):
    for kind in ("咨询", "建议", "表扬"):
        assert assess_urgency(ordinary, "流浪狗咬伤小孩怎么处理", kind).urgency == "一般"


def test_active_nuisance_of_a_pressing_type_is_pressing():
    catalogue = Catalogue.load(REPO / "data" / "catalogue" / "event_types.json")
    fumes = catalogue.by_id["ECO-COOKING-FUMES"]
    assert assess_urgency(fumes, "楼下面馆的油烟直接排到我家窗户").urgency == "较急"
    streetlight = catalogue.by_id["FAC-STREETLIGHT"]
    assert assess_urgency(streetlight, "门口那盏路灯坏了").urgency == "一般"
