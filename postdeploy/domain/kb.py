"""The knowledge base: resolved tickets grouped by category and title signature (the title with
its variable parts masked, as log templates are), ranked by how often each issue came back,
with how long it took to resolve and how it was resolved most often."""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from postdeploy.domain.logtemplates import TemplateMiner
from postdeploy.domain.tickets import Ticket

MIN_SIZE = 2  # an issue seen once is an anecdote, not a FAQ entry
EXAMPLES = 3  # example titles per entry
TOP_RESOLUTIONS = 3
UNCATEGORISED = "uncategorised"
NO_TITLE = "(no title)"


@dataclass(frozen=True, slots=True)
class ResolvedTicket:
    title: str
    category: str | None
    service: str | None
    resolution: str | None  # free text: the close notes
    created_at: datetime
    resolved_at: datetime


@dataclass(frozen=True, slots=True)
class Resolution:
    """Resolutions sharing a signature: how many tickets, and one as it was written."""

    signature: str
    count: int
    example: str


@dataclass(frozen=True, slots=True)
class Entry:
    anchor: str  # stable across refreshes while the category and signature stay: a link target
    category: str
    signature: str
    count: int
    examples: tuple[str, ...]  # distinct titles, the latest first
    services: tuple[str, ...]  # most tickets first
    median_hours: float  # time to resolve, creation to resolution
    resolutions: tuple[Resolution, ...]  # most common first
    undocumented: int  # tickets closed without a resolution text
    last_seen: datetime  # the latest ticket's creation


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def build(
    tickets: Iterable[ResolvedTicket],
    *,
    min_size: int = MIN_SIZE,
    examples: int = EXAMPLES,
    top_resolutions: int = TOP_RESOLUTIONS,
) -> list[Entry]:
    """FAQ entries, the most frequent issue first; groups below `min_size` tickets are left out.
    Titles and resolutions are mined across all tickets at once, so that a variable part (a
    host, an order number) is recognised as such even when one group holds few of them."""
    found = list(tickets)
    titles = TemplateMiner().mine(_clean(t.title) or NO_TITLE for t in found)
    notes = [_clean(t.resolution) for t in found]
    written = [n for n in notes if n]
    mined = iter(TemplateMiner().mine(written))
    resolution_sigs = [next(mined)[1] if n else None for n in notes]

    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (t, (title_id, _)) in enumerate(zip(found, titles, strict=True)):
        groups[(_clean(t.category) or UNCATEGORISED, title_id)].append(i)

    entries = []
    for (category, title_id), members in groups.items():
        if len(members) < min_size:
            continue
        latest_first = sorted(members, key=lambda i: found[i].created_at, reverse=True)
        hours = [
            (found[i].resolved_at - found[i].created_at).total_seconds() / 3600 for i in members
        ]
        entries.append(
            Entry(
                anchor=f"{slug(category)}-{title_id}",
                category=category,
                signature=titles[members[0]][1],
                count=len(members),
                examples=tuple(
                    dict.fromkeys(_clean(found[i].title) or NO_TITLE for i in latest_first)
                )[:examples],
                services=tuple(
                    s
                    for s, _ in Counter(found[i].service or "" for i in members).most_common()
                    if s
                ),
                median_hours=statistics.median(max(h, 0.0) for h in hours),
                resolutions=_resolutions(
                    [(resolution_sigs[i], notes[i]) for i in latest_first], top_resolutions
                ),
                undocumented=sum(1 for i in members if not notes[i]),
                last_seen=found[latest_first[0]].created_at,
            )
        )
    return sorted(entries, key=lambda e: (-e.count, -e.last_seen.timestamp(), e.anchor))


def _resolutions(notes: Sequence[tuple[str | None, str]], top: int) -> tuple[Resolution, ...]:
    """The most common resolution signatures, each with its latest text as the example."""
    counts = Counter(sig for sig, _ in notes if sig is not None)
    example: dict[str, str] = {}
    for sig, text in notes:
        if sig is not None:
            example.setdefault(sig, text)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return tuple(Resolution(sig, n, example[sig]) for sig, n in ranked)


def format_hours(hours: float) -> str:
    """3.5 -> '3.5 h'; 50 -> '2.1 d'; 0.25 -> '15 min'."""
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


# (category, service, title with {n} for a variable part, resolutions, hours to resolve, weight)
_DEMO_ISSUES = [
    ("Payments", "billing", "Checkout fails with HTTP 502 for order {n}",
     ["Restarted payment gateway pod pay-{n}", "Rolled back release to the previous version"],
     3.0, 12),
    ("Access", "auth", "Password reset email not received by user {n}",
     ["Resent the reset email after clearing the bounce list", "Whitelisted sender domain"],
     1.0, 10),
    ("Network", "api", "VPN drops every few minutes for user {n}",
     ["Updated the VPN client to the latest version", "Restarted vpn gateway gw-{n}"], 5.0, 8),
    ("Performance", "web", "Dashboard loads slowly for tenant {n}",
     ["Rebuilt the index on the events table", "Increased cache size"], 20.0, 7),
    ("Data", "api", "Export job {n} stuck in queued state",
     ["Restarted the export worker", "Cleared the stuck lock in the queue"], 8.0, 6),
    ("Access", "auth", "Account {n} locked after failed logins",
     ["Unlocked the account and reset MFA"], 0.5, 5),
    ("Storage", "search", "Disk usage above 90% on search node {n}",
     ["Deleted old indices older than 30 days"], 2.0, 2),
]  # fmt: skip


def demo_resolved_tickets(now: datetime, *, count: int = 50, source: str = "demo") -> list[Ticket]:
    """`count` realistic resolved tickets of the last 60 days (deterministic): recurring issues
    with close notes, for the demo store's knowledge base. Tickets, ready for upsert_tickets."""
    rng = random.Random(42)
    weights = [w for *_, w in _DEMO_ISSUES]
    out = []
    for i in range(count):
        category, service, title, notes, hours, _ = rng.choices(_DEMO_ISSUES, weights)[0]
        created = now - timedelta(days=rng.uniform(1, 60))
        resolved = created + timedelta(hours=hours * rng.uniform(0.5, 2.0))
        n = rng.randint(100, 9999)
        note = rng.choice(notes).format(n=rng.randint(1, 4)) if rng.random() > 0.1 else None
        out.append(
            Ticket(source, f"KB{i + 1:04d}", rng.choice(("high", "medium", "low")),
                   rng.choice(("resolved", "closed")), created, title.format(n=n), service,
                   category, first_response_at=created + timedelta(minutes=rng.randint(5, 90)),
                   resolved_at=resolved, updated_at=resolved, resolution=note)
        )  # fmt: skip
    return out
