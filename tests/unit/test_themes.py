"""Comment themes on a multilingual set: tokens, CJK handling, ranking, and the detractor
against promoter contrast checked against the log-odds formula worked by hand."""

from __future__ import annotations

import math

import pytest

from postdeploy.domain.themes import contrast, terms, themes


def test_words_and_neighbouring_phrases_skip_stopwords_and_punctuation() -> None:
    assert terms("The login page is very slow, and support didn't answer.") == {
        "login", "page", "login page", "slow", "support", "answer",
    }  # fmt: skip


def test_german_french_and_spanish_lose_their_function_words() -> None:
    assert terms("Die Anmeldung ist sehr langsam!") == {"anmeldung", "langsam"}
    assert terms("L'application est très lente") == {"application", "lente"}
    assert terms("El inicio de sesión es lento") == {"inicio", "sesión", "lento"}


def test_case_width_and_apostrophes_are_folded() -> None:
    assert terms("LOGIN Login ｌｏｇｉｎ") == {"login"}
    assert terms("It’s SLOW") == terms("it's slow") == {"slow"}


def test_japanese_gives_katakana_words_and_kanji_without_the_particles() -> None:
    assert terms("ログインが遅いです。") == {"ログイン", "遅"}
    assert terms("サポートの返信も遅い") == {"サポート", "返信", "遅"}


def test_chinese_gives_character_bigrams_split_at_particles() -> None:
    assert terms("登录很慢") == {"登录", "慢"}
    assert terms("客服回复速度") == {"客服", "服回", "回复", "复速", "速度"}


def test_emoji_numbers_and_single_letters_are_not_themes() -> None:
    assert terms("😡 502 x slow 👍") == {"slow"}


def test_themes_count_comments_not_repetitions_and_rank_the_most_mentioned_first() -> None:
    comments = [
        "slow slow slow slow",
        "Login slow.",
        "Anmeldung langsam",
        "Anmeldung langsam!",
        "ログインが遅い",
        "ログインできない",
        "great",
    ]
    found = themes(comments)
    assert [(t.term, t.count) for t in found] == [
        ("anmeldung langsam", 2), ("slow", 2), ("ログイン", 2),
    ]  # fmt: skip
    assert found[1].share == pytest.approx(2 / 7) and found[1].examples == (0, 1)


def test_a_word_stays_a_theme_when_it_is_also_said_outside_its_phrase() -> None:
    found = {t.term: t.count for t in themes(["login page", "login page", "login broken"])}
    assert found == {"login page": 2, "login": 3}


def test_no_comments_no_themes() -> None:
    assert themes([]) == [] and contrast([], []) == []


def test_detractor_themes_come_first_and_promoter_themes_last_in_any_language() -> None:
    detractors = ["Login slow", "login is slow", "Anmeldung langsam", "Anmeldung langsam!",
                  "ログインが遅い", "ログイン遅い", "support ok but login slow"]  # fmt: skip
    promoters = ["Friendly support", "friendly support, fast", "サポートが親切", "サポート最高",
                 "Support freundlich", "support freundlich"]  # fmt: skip
    found = contrast(detractors, promoters)
    z = {c.term: c.z for c in found}
    detractor_side = [c.term for c in found if c.z > 0]
    assert detractor_side[:2] == ["login", "slow"]  # 3 detractors each, no promoter
    assert {"login slow", "anmeldung langsam", "ログイン", "遅"} <= set(detractor_side)
    assert all(z[t] < 0 for t in ("friendly support", "サポート", "support freundlich"))
    support = next(c for c in found if c.term == "support")
    assert (support.count_a, support.count_b) == (1, 4)
    assert support.z < z["friendly"] < 0  # said by one detractor, but by four promoters
    assert [c.term for c in found][-1] == "support"


def test_the_contrast_is_the_log_odds_ratio_with_an_informative_prior_worked_by_hand() -> None:
    # a: "slow" in 3 comments, "fast" in 1; b: "fast" in 3; background: nothing more
    found = {c.term: c for c in contrast(["slow", "slow", "slow", "fast"], ["fast"] * 3, prior=8)}
    # pooled: slow 3, fast 4 of 7 mentions; alpha_slow = 8 * 3/7, n_a = 4, n_b = 3
    a = 8 * 3 / 7
    delta = math.log((3 + a) / (4 + 8 - 3 - a)) - math.log((0 + a) / (3 + 8 - 0 - a))
    z = delta / math.sqrt(1 / (3 + a) + 1 / (0 + a))
    assert found["slow"].z == pytest.approx(z) and found["slow"].z > 0
    assert found["fast"].z < 0
