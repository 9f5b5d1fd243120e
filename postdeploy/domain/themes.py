"""Comment themes in any language, without an NLP library: Unicode words and two-word phrases
between stopwords and punctuation, CJK text (no spaces) as katakana words and Han character
bigrams; themes ranked by the number of comments that mention them; and the themes that set
one group (detractors) apart from another (promoters) by the log-odds ratio with an
informative Dirichlet prior (Monroe, Colaresi and Quinn 2008)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from postdeploy.domain.stopwords import HAN_STOP, STOPWORDS

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_ELISION = re.compile(r"^(?:l|d|j|qu|n|c|s|m|t)['’](?=\w)")  # French l'appli, d'attente
_GAP = re.compile(r"\s*")
PRIOR = 100.0  # pseudo-mentions the background spreads over the terms (see contrast)


_HIRAGANA, _KATAKANA = "\u3040-\u309f", "\u30a0-\u30ff\u31f0-\u31ff"
_HAN = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK = re.compile(f"[{_HIRAGANA}{_KATAKANA}{_HAN}]")
_STOP = "".join(sorted(HAN_STOP))
_RUN = re.compile(
    f"(?P<hiragana>[{_HIRAGANA}]+)|(?P<katakana>[{_KATAKANA}]+)|(?P<stop>[{_STOP}]+)"
    f"|(?P<han>(?:(?![{_STOP}])[{_HAN}])+)|(?P<word>[^{_HIRAGANA}{_KATAKANA}{_HAN}]+)"
)


def _runs(word: str) -> list[tuple[str, str]]:
    """A word cut where its script changes: (kind, text) with kind hiragana, katakana, stop
    (a Han stop character), han or word (any other script)."""
    if not _CJK.search(word):
        return [("word", word)]
    return [(str(m.lastgroup), m.group()) for m in _RUN.finditer(word)]


def _cjk_terms(kind: str, run: str) -> list[str]:
    """Katakana words (loanwords: ログイン) whole; Han runs as they are up to two characters,
    longer ones as overlapping bigrams (登录速度 -> 登录, 录速, 速度), as CJK search engines
    do; hiragana (mostly particles and endings) and Han stop characters are left out."""
    if kind == "katakana":
        return [run] if len(run) >= 2 else []
    if kind == "han":
        return [run] if len(run) <= 2 else [run[i : i + 2] for i in range(len(run) - 1)]
    return []


@lru_cache(maxsize=65536)  # themes and contrast read the same comments
def terms(text: str) -> frozenset[str]:
    """The distinct terms of one comment: content words, two-word phrases of neighbouring
    content words (no stopword or punctuation between), and CJK terms."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    found: set[str] = set()
    phrase: list[str] = []  # the content words seen since the last boundary
    end = 0
    for match in _WORD.finditer(text):
        if not _GAP.fullmatch(text, end, match.start()):
            phrase = []  # punctuation between the words
        end = match.end()
        word = match.group()
        for kind, run in _runs(_ELISION.sub("", word) if "'" in word else word):
            if kind != "word":
                found.update(_cjk_terms(kind, run))
                phrase = []
            elif len(run) < 2 or run in STOPWORDS or not run.isalpha():
                phrase = []
            else:
                found.add(run)
                if phrase and phrase[-1] != run:
                    found.add(f"{phrase[-1]} {run}")
                phrase.append(run)
    return frozenset(found)


@dataclass(frozen=True)
class Theme:
    term: str
    count: int  # comments that mention it
    share: float  # of the comments, 0..1
    examples: tuple[int, ...]  # indices of comments that mention it, first ones first


def themes(
    comments: Sequence[str], *, top: int = 15, min_count: int = 2, examples: int = 3
) -> list[Theme]:
    """The terms most comments mention, most first (ties: alphabetical). A word is left out
    when a phrase holding it is in every comment that has the word ('slow' under 'slow
    login')."""
    if not comments:
        return []
    per_comment = [terms(c) for c in comments]
    counts = Counter(t for found in per_comment for t in found)
    covered = set()
    for term, n in counts.items():
        if " " in term and n >= min_count:
            covered |= {w for w in term.split(" ") if counts[w] == n}
    ranked = sorted(
        (t for t, n in counts.items() if n >= min_count and t not in covered),
        key=lambda t: (-counts[t], t),
    )[:top]
    return [
        Theme(
            t,
            counts[t],
            counts[t] / len(comments),
            tuple([i for i, found in enumerate(per_comment) if t in found][:examples]),
        )  # fmt: skip
        for t in ranked
    ]


@dataclass(frozen=True)
class Contrast:
    term: str
    count_a: int  # comments of group a that mention it
    count_b: int
    z: float  # > 0: more typical of a; |z| > 1.96: unlikely by chance alone


def contrast(
    group_a: Iterable[str],
    group_b: Iterable[str],
    background: Iterable[str] = (),
    *,
    prior: float = PRIOR,
    min_count: int = 2,
) -> list[Contrast]:
    """Terms by how much more group a mentions them than group b: the z-score of the log-odds
    ratio with an informative Dirichlet prior whose shares come from a, b and `background`
    together (so rare terms are not over-read). Counts are comments mentioning a term."""
    a = Counter(t for c in group_a for t in terms(c))
    b = Counter(t for c in group_b for t in terms(c))
    pooled = a + b + Counter(t for c in background for t in terms(c))
    total = sum(pooled.values())
    n_a, n_b = sum(a.values()), sum(b.values())
    found = []
    for term in a.keys() | b.keys():
        if max(a[term], b[term]) < min_count:
            continue
        alpha = prior * pooled[term] / total
        ya, yb = a[term] + alpha, b[term] + alpha
        delta = math.log(ya / (n_a + prior - ya)) - math.log(yb / (n_b + prior - yb))
        found.append(Contrast(term, a[term], b[term], delta / math.sqrt(1 / ya + 1 / yb)))
    return sorted(found, key=lambda c: (-c.z, c.term))
