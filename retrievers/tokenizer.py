"""Chinese tokenisation for BM25: jieba search-mode words with a user dictionary."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import jieba

# jieba logs its dictionary loading at INFO on every start; it is noise for users.
jieba.setLogLevel(logging.WARNING)

_KEEP = re.compile(r"[\u4e00-\u9fff]|[A-Za-z0-9]")
# Function words that carry no topic; kept short on purpose, since legal words such as
# 不得 and 应当 do matter for matching obligations.
STOPWORDS = frozenset(
    "的 了 和 与 或 及 等 是 在 对 由 为 将 被 把 就 都 而 也 之 其 该 本 个 这 那 吗 呢 吧 啊 呀 么 "
    "什么 怎么 怎么办 如何 哪些 哪个 是否 可以 能 能否 会 要 请问 一下 我 我们 你 他 她 它 有 没有 "
    "啥 咋 嘛 哦 哈 喔 给 从 向 于 以 所 中".split()
)


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def char_bigrams(text: str) -> list[str]:
    """Overlapping two-character grams of each run of Chinese characters."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class ChineseTokenizer:
    """jieba (search mode) with an isolated dictionary, plus character bigrams.

    Words give precise matches; bigrams catch paraphrases that segment differently
    (物业用房 / 物业管理用房) and words missing from the dictionary. On the
    development set the union beat either alone (hit@5 0.79 vs 0.74 jieba, 0.77 bigrams).

    Each instance owns its own ``jieba.Tokenizer`` so that user words added for one
    knowledge base never leak into another through jieba's global default.
    """

    def __init__(
        self,
        user_words: Iterable[str] = (),
        stopwords: frozenset[str] = STOPWORDS,
        bigrams: bool = True,
    ):
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._stopwords = stopwords
        self._pending = [w.strip() for w in user_words if w and len(w.strip()) >= 2]
        self._ready = False
        self._bigrams = bigrams

    def _ensure_ready(self) -> None:
        # Dictionary loading takes ~1 s; do it on first use, once, even across threads.
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            self._jieba.initialize()
            for word in self._pending:
                self._jieba.add_word(word, freq=2000)
            self._ready = True

    def tokenize(self, text: str) -> list[str]:
        """Words (search mode) without stopwords/punctuation, then character bigrams."""
        self._ensure_ready()
        text = text.lower()
        out = []
        for tok in self._jieba.cut_for_search(text):
            tok = tok.strip()
            if not tok or tok in self._stopwords or not _KEEP.search(tok):
                continue
            out.append(tok)
        if self._bigrams:
            # A "b:" prefix keeps a bigram apart from the two-character word it spells.
            out.extend("b:" + g for g in char_bigrams(text))
        return out

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.tokenize(t) for t in texts]
