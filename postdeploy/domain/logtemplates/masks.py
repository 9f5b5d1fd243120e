"""Generic masks: turn a log message into tokens where numbers, ids, IPs, hex, UUIDs, paths,
URLs, dates and quantities become the variable `<*>`. One set of rules for every log format."""

from __future__ import annotations

import re

VAR = "<*>"
# a token glued to the previous one ("key=" + "value"); rendering drops the space before it
GLUE = "\x1f"
GLUED_VAR = GLUE + VAR

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_PATH = re.compile(
    r"(?<![\w/])(?:/[\w.~@+-]+){2,}/?"  # /var/log/app.log
    r"|(?<![\w:])[A-Za-z]:\\[^\s'\"]*"  # C:\Windows\x.dll
    r"|(?<!\w)\\\\[^\s,;'\"]+"  # \\server\share
)
_NUMERIC = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID
    r"|(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"  # IPv6, MAC, 10:20:30
    r"|\b0[xX][0-9a-fA-F]+\b"
    r"|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{5,}\b"  # hex id: digits and a-f
    r"|(?<![A-Za-z0-9])[-+]?\d[A-Za-z0-9]*"  # a word that starts with a digit: 42, 3ms, 2nd
    r"|(?<=[A-Za-z])\d+"  # digits after letters keep the letters: tty2 -> tty<*>
)
_HEX_LETTERS = re.compile(r"\b[a-fA-F]{8,}\b")  # ffffffff; no English word is 8 a-f letters
# variables joined by punctuation only are one variable: <*>.<*>.<*>.<*>:<*> -> <*>
_CHAIN = re.compile(r"<\*>(?:[^\sA-Za-z]*<\*>)+")
_PUNCT_VAR = re.compile(r"[^A-Za-z0-9]*<\*>[^A-Za-z0-9]*")
_DOT_LEADER = re.compile(r"(?<=\.\.)(?=[^\s.])")  # "instruction......0" -> "instruction......" "0"
_AFTER_EQUALS = re.compile(r"(?<==)(?=[^=])")  # "key=value" -> "key=" "value"
_DIGIT = re.compile(r"\d")
_UNITS = frozenset(  # case matters: "b" or "h" after a number is too often not a unit
    "B kB KB MB GB TB PB KiB MiB GiB TiB byte bytes bit bits kbps Mbps Gbps ns us µs ms s sec secs"
    " second seconds min mins minute minutes hr hrs hour hours day days %".split()
)
_UNIT_STRIP = "()[]{},;.:" + GLUE
_DATE_WORDS = frozenset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july"
    " august september october november december mon tue wed thu fri sat sun monday tuesday"
    " wednesday thursday friday saturday sunday".split()
)


def _mask_word(word: str) -> list[str]:
    """Mask one whitespace-free word; split it after `=` and after dot leaders."""
    if "://" in word:
        word = _URL.sub(VAR, word)
    if "/" in word or "\\" in word:
        word = _PATH.sub(VAR, word)
    if _DIGIT.search(word):
        word = _NUMERIC.sub(VAR, word)
    elif len(word) >= 8:
        word = _HEX_LETTERS.sub(VAR, word)
    if VAR in word:
        word = _CHAIN.sub(VAR, word)
    if ".." in word:
        word = _DOT_LEADER.sub(" ", word)
    parts: list[str] = []
    for chunk in word.split(" "):
        for piece in _AFTER_EQUALS.split(chunk):
            if piece:
                parts.append(GLUE + piece if parts else piece)
    return parts


def _plain_var(part: str) -> str:
    """A variable wrapped in punctuation only, like `(<*>)` or `<*>,`, is just a variable."""
    if VAR in part and part not in (VAR, GLUED_VAR):
        glued = part.startswith(GLUE)
        if _PUNCT_VAR.fullmatch(part[1:] if glued else part):
            return GLUED_VAR if glued else VAR
    return part


def is_var(token: str) -> bool:
    return token == VAR or token == GLUED_VAR


_LITERAL, _VARIABLE, _UNIT, _ID, _DATE = range(5)
_ZEROS = str.maketrans("123456789", "000000000")  # masks treat every digit alike


def _kind(part: str) -> int:
    if is_var(part):
        return _VARIABLE
    if VAR in part:
        return _ID
    if part.strip(_UNIT_STRIP) in _UNITS:
        return _UNIT
    if part.strip(",." + GLUE).lower() in _DATE_WORDS:
        return _DATE
    return _LITERAL


class Masker:
    """Tokenizes and masks messages. Words are masked once per shape (digits as 0) and cached,
    since most words repeat; rules that span words (quantities, dates, lists) run on tokens.

    A variable in punctuation, like `(<*>)`, is the token `<*>`; `shown` (when given) gets the
    tokens as they should read in a template, punctuation kept."""

    def __init__(self, cache_size: int = 1 << 16) -> None:
        self._cache: dict[str, tuple[tuple[str, int, str], ...]] = {}
        self._cache_size = cache_size

    def _parts(self, word: str) -> tuple[tuple[str, int, str], ...]:
        shape = word.translate(_ZEROS)
        parts = self._cache.get(shape)
        if parts is None:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            masked = [(_plain_var(p), p) for p in _mask_word(shape)]
            parts = self._cache[shape] = tuple((p, _kind(p), raw) for p, raw in masked)
        return parts

    def tokens(self, message: str, shown: list[str] | None = None) -> tuple[str, ...]:
        out: list[str] = []
        cache = self._cache
        last = _LITERAL  # kind of out[-1]
        for word in message.split():
            parts = cache.get(word) or self._parts(word)
            for part, kind, raw in parts:
                if kind == _VARIABLE:
                    if last == _VARIABLE:
                        continue  # consecutive variables are one: lists, "12 (4.0 KB)"
                    while last == _DATE:  # "Sun Jul 10 03:55:15 2005" is one variable
                        out.pop()
                        if shown is not None:
                            shown.pop()
                        last = _kind(out[-1]) if out else _LITERAL
                    if last == _VARIABLE:
                        continue
                elif kind == _UNIT and last == _VARIABLE:
                    if shown is not None:  # keep what follows the unit: "(4 KB)," -> "(<*>),"
                        shown[-1] += raw[len(raw.rstrip(_UNIT_STRIP)) :]
                    continue  # a quantity: "4 KB", "<1 sec", "10 ms"
                elif kind == _ID and last == _ID and out[-1] == part:
                    continue  # repeated ids: "blk_<*> blk_<*> blk_<*>"
                out.append(part)
                if shown is not None:
                    shown.append(raw)
                last = kind
        return tuple(out)


def render(tokens: tuple[str, ...] | list[str]) -> str:
    return " ".join(tokens).replace(" " + GLUE, "").replace(GLUE, "")
