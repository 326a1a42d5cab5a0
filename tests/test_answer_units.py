"""The parts of an answer that need no index: 款/项, regulation names, slots, conclusions."""

from __future__ import annotations

import csv

import pytest

from copilot.answers.candidates import QuestionContext, article_number
from copilot.answers.conclusion import conclusion
from copilot.answers.models import quote_is_verbatim
from copilot.answers.provisions import chinese_number, split_provisions
from copilot.answers.regulation_names import RegulationNames
from copilot.answers.slots import question_slot, span_has_slot, states_asked_figure
from copilot.settings import Settings

GAS_60 = (
    "第六十条 违反本条例规定，天然气用户有下列行为之一的，由天然气管理部门责令限期改正；"
    "逾期未改正的，对天然气单位用户处一万元以上十万元以下罚款，对天然气居民用户处两百元以上"
    "一千元以下罚款：\n（一）无正当理由拒绝入户安全检查的；\n（二）未及时整改户内安全隐患的；"
)


@pytest.fixture(scope="module")
def names() -> RegulationNames:
    settings = Settings()
    with (settings.policy_dir / "index.csv").open(encoding="utf-8") as fh:
        titles = [row["title"] for row in csv.DictReader(fh)]
    return RegulationNames.from_lexicon(
        titles, settings.data_dir / "lexicon" / "regulation_aliases.tsv"
    )


def test_items_of_a_single_paragraph_article_are_cited_as_xiang():
    units = split_provisions(GAS_60)
    assert [u.label for u in units] == ["", "第一项", "第二项"]
    first_item = units[1]
    assert first_item.text.startswith("（一）无正当理由拒绝入户安全检查")
    assert first_item.lead is not None and first_item.lead.startswith("违反本条例规定")
    assert not units[0].text.startswith("第六十条")  # the quote never repeats the number


def test_paragraphs_are_counted_as_kuan_when_an_article_has_several():
    text = "第十条 业主大会应当……\n前款规定的会议，应当提前十五日通知。\n（一）时间；\n（二）地点。"
    units = split_provisions(text)
    assert [u.label for u in units] == ["第一款", "第二款", "第二款第一项", "第二款第二项"]


@pytest.mark.parametrize(("n", "zh"), [(1, "一"), (10, "十"), (12, "十二"), (21, "二十一")])
def test_chinese_numbers_for_unit_labels(n, zh):
    assert chinese_number(n) == zh


@pytest.mark.parametrize(
    ("label", "n"), [("第六十条", 60), ("第一百零五条", 105), ("第十二条", 12), (None, 0)]
)
def test_article_numbers_read_from_labels(label, n):
    assert article_number(label) == n


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("控烟条例管得到电子烟不？", "重庆市公共场所控制吸烟条例"),
        ("按照物业条例，业主大会怎么开？", "物业管理条例"),
        ("燃气条例对入户安检有啥子规定", "重庆市天然气管理条例"),
        ("低保条例规定哪些人能申请", "重庆市城乡居民最低生活保障条例"),
        ("安全生产法第几条讲了培训", "中华人民共和国安全生产法"),
        ("烟花爆竹条例里说，在禁放区放炮罚好多？", "重庆市燃放烟花爆竹管理条例"),
        ("《重庆市消防条例》第十条", "重庆市消防条例"),
    ],
)
def test_short_and_colloquial_regulation_names_resolve_to_titles(names, question, title):
    found = names.find(question)
    assert found is not None and found.titles[0] == title


@pytest.mark.parametrize(
    "question",
    ["重庆市养犬有哪些规定？", "这种做法违法吗", "依法处理需要多久", "会被罚款吗"],
)
def test_a_sentence_is_never_taken_for_a_regulation_name(names, question):
    assert names.find(question) is None


def test_a_named_regulation_the_corpus_lacks_resolves_to_nothing(names):
    found = names.find("《重庆市无人机快递配送管理条例》规定几点以后禁飞？")
    assert found is not None and not found.found


@pytest.mark.parametrize(
    ("question", "slot"),
    [
        ("燃气公司上门安检不让进屋会被罚款吗", "penalty"),
        ("在主干道洗车罚多少钱", "amount"),
        ("业主大会要提前几天通知", "time"),
        ("楼道堆放杂物归哪个部门管", "who"),
        ("电动自行车可以在楼道充电吗", "permission"),
        ("低保怎么申请", "procedure"),
        ("重庆市的河长制是什么", "general"),
    ],
)
def test_question_slots(question, slot):
    assert question_slot(question) == slot


def test_span_slots_need_the_fact_itself():
    assert span_has_slot("处两百元以上一千元以下罚款", "amount")
    assert not span_has_slot("物业服务人应当定期维护电梯", "amount")
    assert span_has_slot("应当在十五日内答复", "time")


def _ctx(question: str, words: list[str]) -> QuestionContext:
    return QuestionContext(
        question=question,
        rewritten=question,
        words=words,
        bigrams=[],
        slot=question_slot(question),
        named_titles=(),
        names_regulation=False,
        places=(),
    )


def test_conclusion_of_a_penalty_question_states_the_fine_for_residents():
    quote = split_provisions(GAS_60)[1]
    line = conclusion(
        _ctx("燃气公司上门安检不让进屋会被罚款吗", ["居民", "罚款", "安全检查"]),
        f"{quote.lead}……{quote.text}",
    )
    assert line.startswith("会被处罚")
    assert "两百元以上一千元以下罚款" in line


def test_conclusion_of_a_permission_question_starts_with_a_verdict():
    line = conclusion(
        _ctx("可以在楼道里堆东西吗", ["楼道", "堆放"]),
        "禁止在楼道、楼梯间等共用部位堆放物品。",
    )
    assert line.startswith("不可以")


def test_quotes_are_verbatim_across_line_breaks_and_the_lead_in_gap():
    unit = split_provisions(GAS_60)[1]
    assert quote_is_verbatim(f"{unit.lead}……{unit.text}", GAS_60)
    assert not quote_is_verbatim("对天然气居民用户处五百元罚款", GAS_60)


@pytest.mark.parametrize(
    ("question", "slot"),
    [
        ("失业保险金每个月能领好多？", "amount"),
        ("要在好多天之内去申请注销登记？", "time"),
        ("街道河长巡河频次由谁来确定？", "who"),
        ("我去参加抢险救援那几天，单位能不能扣我工资？", "permission"),
        ("评标专家到多少岁就要退出专家库？", "amount"),
    ],
)
def test_dialect_and_who_first_slots(question, slot):
    assert question_slot(question) == slot


def test_a_fine_does_not_state_a_benefit_amount():
    fine = "违反规定的，处五千元以上三万元以下罚款。"
    assert not states_asked_figure(fine, "失业保险金每个月能领好多钱？", "amount")
    assert states_asked_figure(fine, "不按规定做会被罚多少钱？", "amount")


def test_a_period_word_is_not_a_time_limit():
    assert not states_asked_figure("许可期限届满后，应当停止经营。", "有效期是多长时间？", "time")
    assert states_asked_figure("应当自受理之日起十五个工作日内作出决定。", "几天内处理？", "time")
