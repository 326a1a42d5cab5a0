"""The letter classifier: grouped validation, reproducible training, the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest

from copilot.events import letter_training as lt
from copilot.events.letters import OTHER_CLASS, LetterClassifier, clean_letter
from copilot.settings import BUNDLED_DATA_DIR

MODEL = BUNDLED_DATA_DIR / "models" / "letter_classifier.npz"


@pytest.fixture(scope="module")
def rows() -> lt.LetterRows:
    return lt.load_rows()


@pytest.fixture(scope="module")
def shipped() -> LetterClassifier:
    return LetterClassifier.load(MODEL)


def test_validation_letters_and_their_halves_never_reach_training(rows):
    folds = lt.fold_indices(rows.full_labels)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(rows.full_texts)))
    assert sum(link >= 0 for link in rows.rest_link) > 100  # halves are found and linked
    for validation in folds:
        held = {int(i) for i in validation}
        texts, labels = lt.fold_training_set(rows, validation)
        halves = sum(link in held for link in rows.rest_link)
        assert halves > 0
        expected = len(rows.full_texts) - len(held) + len(rows.rest_texts) - halves
        assert len(texts) == expected + len(rows.other_texts) == len(labels)
        kept_full = {rows.full_texts[j] for j in range(len(rows.full_texts)) if j not in held}
        for i in held:
            assert rows.full_texts[i] not in texts or rows.full_texts[i] in kept_full


def test_anonymised_place_codes_are_not_learned_as_words():
    assert clean_letter("A市A3区魏家坡小区 B9市东富镇") == "市区魏家坡小区市东富镇"
    assert clean_letter("渝北区 两路街道") == "渝北区两路街道"


def test_retraining_is_reproducible(rows):
    texts, labels = rows.full_texts[:400], rows.full_labels[:400]
    a, b = lt.fit(texts, labels), lt.fit(texts, labels)
    assert np.array_equal(a.coef, b.coef)
    assert a.classes == b.classes


def test_shipped_weights_are_small_and_cover_the_seven_classes_and_other(shipped):
    assert MODEL.stat().st_size <= 20 * 1024 * 1024
    assert set(shipped.classes) == {
        "交通运输",
        "劳动和社会保障",
        "卫生计生",
        "商贸旅游",
        "城乡建设",
        "教育文体",
        "环境保护",
        OTHER_CLASS,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们公司拖欠了三个月工资，社保也没有给我们买，请劳动部门帮忙", "劳动和社会保障"),
        ("孩子所在的学校乱收补课费，老师还逼着买资料", "教育文体"),
        ("小区旁边的化工厂每天晚上偷排废气，味道刺鼻", "环境保护"),
        ("医院乱收费，做个检查花了好几千，医生态度也很差", "卫生计生"),
        ("出租车司机拒载还绕路，打表多收了二十块", "交通运输"),
    ],
)
def test_shipped_model_reads_real_topics(shipped, text, expected):
    probs = shipped.probabilities(text)
    assert max(probs, key=probs.__getitem__) == expected
    assert abs(sum(probs.values()) - 1) < 1e-5


def test_empty_or_unknown_text_gives_a_distribution_not_an_error(shipped):
    for text in ["", "🚒🔥", "\x00\x01", "a" * 50_000]:
        probs = shipped.probabilities(text)
        assert abs(sum(probs.values()) - 1) < 1e-5


@pytest.mark.slow
def test_grouped_cross_validation_meets_the_issue_floor(rows):
    cv = lt.cross_validate(rows)
    assert cv.letters == 1719 and cv.folds == 5
    assert cv.accuracy >= 0.85
    assert cv.macro_f1 >= 0.80
