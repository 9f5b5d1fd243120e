"""Template mining: masked messages are grouped exactly, then messages of the same length are
split column by column until every column that still differs looks like a variable."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from postdeploy.domain.logtemplates.masks import GLUE, GLUED_VAR, VAR, Masker, is_var, render

Signature = tuple[str, ...]
UNPARSED_ID = "unparsed"  # the group of lines that did not match the reader's pattern

# a token that looks like a value even without digits: a path, a dotted name (a.b.c), an email
_VALUE_LIKE = re.compile(r"[/\\]|\w\.\w+\.\w|\w@\w")


def _affix(words: Sequence[str], end: int) -> str:
    """Punctuation all words start (end=0) or end (end=-1) with: ( ) ' " [ ] , : and so on."""
    step = 1 if end == 0 else -1
    shortest = min(len(w) for w in words)
    n = 0
    while n < shortest:
        char = words[0][step * n + end]
        if char.isalnum() or char in "<*>" or any(w[step * n + end] != char for w in words):
            break
        n += 1
    if n == 0:
        return ""
    return words[0][:n] if end == 0 else words[0][-n:]


def template_id(text: str) -> str:
    """Stable across runs and machines: a short hash of the template text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


class _Node:
    __slots__ = ("children", "template")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.template = -1

    def child(self, key: str) -> _Node:
        node = self.children.get(key)
        if node is None:
            node = self.children[key] = _Node()
        return node


@dataclass(frozen=True)
class Template:
    id: str
    text: str
    count: int


class TemplateMiner:
    """Mine templates from log messages.

    `mine(messages)` is the batch call: one pass to mask and group, then one refinement pass.
    `add(message)` serves streams: it answers with the best template known so far and refines
    now and then, so ids given early may later generalise (like Drain's clusters do).

    A column is a variable when it holds at least `min_distinct` different words, or two
    different value-like words (partly masked, paths, dotted names); a template keeps at
    least `constant_ratio` constant words per variable column, so unrelated one-word
    messages are never lumped together.
    """

    def __init__(
        self, *, min_distinct: int = 4, constant_ratio: float = 1.5, refine_every: int = 256
    ) -> None:
        self.min_distinct = min_distinct
        self.constant_ratio = constant_ratio
        self.refine_every = refine_every
        self._masker = Masker()
        self._index: dict[Signature, int] = {}
        self._sigs: list[Signature] = []
        self._shown: list[Signature] = []  # each signature as its first message reads
        self._counts: list[int] = []
        self._sig_template: list[int] = []  # signature -> template number
        self._templates: list[Signature] = []
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._trie = _Node()  # templates by length, then word by word; "" stands for <*>
        self._unrefined = 0
        self._value_like: dict[str, bool] = {}

    def add(self, message: str) -> str:
        sig = self._observe(message, match=True)
        # refine after a batch of unknown messages, growing with what is known: amortised O(n)
        if self._unrefined >= max(self.refine_every, len(self._sigs) // 2):
            self.refine()
        return self._ids[self._sig_template[sig]]

    def mine(self, messages: Iterable[str]) -> list[tuple[str, str]]:
        """(template id, template) for each message, in order."""
        sigs = [self._observe(m, match=False) for m in messages]
        self.refine()
        pairs = list(zip(self._ids, self._texts, strict=True))
        of = self._sig_template
        return [pairs[of[s]] for s in sigs]

    def templates(self) -> list[Template]:
        """Templates with their message counts, most frequent first."""
        counts = [0] * len(self._templates)
        for sig, n in enumerate(self._counts):
            counts[self._sig_template[sig]] += n
        found = [Template(self._ids[t], self._texts[t], n) for t, n in enumerate(counts) if n]
        return sorted(found, key=lambda t: (-t.count, t.text))

    def refine(self) -> None:
        """Regroup every signature seen so far (cheap: signatures, not messages)."""
        self._templates, self._ids, self._texts, self._trie = [], [], [], _Node()
        by_length: dict[int, list[int]] = {}
        for i, tokens in enumerate(self._sigs):
            by_length.setdefault(len(tokens), []).append(i)
        for members in by_length.values():
            for template, group in self._partition(members):
                t = self._new_template(template, self._show(template, group))
                for i in group:
                    self._sig_template[i] = t
        self._unrefined = 0

    def _observe(self, message: str, *, match: bool) -> int:
        tokens = self._masker.tokens(message)
        sig = self._index.get(tokens)
        if sig is None:
            shown: list[str] = []
            self._masker.tokens(message, shown)
            sig = self._index[tokens] = len(self._sigs)
            self._sigs.append(tokens)
            self._shown.append(tuple(shown))
            self._counts.append(0)
            self._sig_template.append(self._match(tokens) if match else -1)
        self._counts[sig] += 1
        return sig

    def _match(self, tokens: Signature) -> int:
        """A known template that covers these tokens, else a new one (until the next refine)."""
        root = self._trie.children.get(str(len(tokens)))
        todo = [(root, 0)] if root is not None else []
        while todo:  # depth first, the word itself before <*>
            node, depth = todo.pop()
            if depth == len(tokens):
                return node.template
            for key in ("", tokens[depth]):
                child = node.children.get(key)
                if child is not None:
                    todo.append((child, depth + 1))
        self._unrefined += 1
        return self._new_template(tokens, render(self._shown[-1]))

    def _new_template(self, tokens: Signature, text: str) -> int:
        t = len(self._templates)
        self._templates.append(tokens)
        self._ids.append(template_id(text))
        self._texts.append(text)
        node = self._trie.child(str(len(tokens)))
        for token in tokens:
            node = node.child("" if is_var(token) else token)
        if node.template < 0:
            node.template = t
        return t

    def _partition(self, members: list[int]) -> list[tuple[Signature, list[int]]]:
        """Split same-length signatures until only variable-looking columns differ."""
        done: list[tuple[Signature, list[int]]] = []
        todo = [members]
        while todo:
            group = todo.pop()
            sigs = [self._sigs[i] for i in group]
            if len(group) == 1:
                done.append((sigs[0], group))
                continue
            column = self._split_column(sigs)
            if column is None:
                done.append((self._generalise(sigs), group))
                continue
            parts: dict[str, list[int]] = {}
            for i, sig in zip(group, sigs, strict=True):
                parts.setdefault(sig[column], []).append(i)
            todo.extend(parts.values())
        return done

    def _split_column(self, sigs: Sequence[Signature]) -> int | None:
        """The column to split on next, or None when the group is one template."""
        constants = 0
        variables: list[tuple[float, int, int]] = []
        few: list[tuple[int, int]] = []
        for position, column in enumerate(zip(*sigs, strict=True)):
            values = set(column)
            if len(values) == 1:
                constants += not is_var(column[0])
                continue
            value_like = sum(map(self._looks_like_value, values))
            if len(values) >= self.min_distinct or value_like >= 2:
                variables.append((value_like / len(values), len(values), position))
            else:
                few.append((len(values), position))
        if few:
            return min(few)[1]
        if constants >= 1 and constants >= self.constant_ratio * len(variables):
            return None
        return min(variables)[2]  # too few constants: split where values look least variable

    def _looks_like_value(self, token: str) -> bool:
        known = self._value_like.get(token)
        if known is None:
            known = self._value_like[token] = VAR in token or bool(_VALUE_LIKE.search(token))
        return known

    def _show(self, template: Signature, group: list[int]) -> str:
        """The template as it reads: variables keep the punctuation around them, chosen
        independently of input order so that the text, and so the id, is stable."""
        shown = list(template)
        for position, token in enumerate(template):
            if not is_var(token):
                continue
            words = [self._shown[i][position] for i in group]
            if all(self._sigs[i][position] == token for i in group):
                shown[position] = min(words)
            else:
                shown[position] = _affix(words, 0) + VAR + _affix(words, -1)
        return render(shown)

    @staticmethod
    def _generalise(sigs: Sequence[Signature]) -> Signature:
        out: list[str] = []
        for column in zip(*sigs, strict=True):
            first = column[0]
            if all(token == first for token in column):
                out.append(first)
            else:
                out.append(GLUED_VAR if all(t.startswith(GLUE) for t in column) else VAR)
        return tuple(out)
