from postdeploy.domain.logreview import Line, review, same_signature, signatures


def lines(*pairs: tuple[str, str | None]) -> list[Line]:
    return [Line(message=m, level=lvl, raw=f"{lvl} {m}") for m, lvl in pairs]


def test_a_days_lines_become_signatures_with_counts_errors_and_samples() -> None:
    day = lines(
        *((f"order {n} failed: upstream timeout after 3000ms", "ERROR") for n in range(5)),
        *((f"GET /api/orders 200 {n}.5ms", "INFO") for n in range(8)),
    ) + [Line("\x00garbage", None, "\x00garbage", parsed=False)]
    sigs = {s.template: s for s in signatures(day)}
    orders = sigs["order <*> failed: upstream timeout after <*>"]
    assert orders.count == 5 and orders.errors == 5 and len(orders.samples) == 3
    (requests,) = [s for s in sigs.values() if s.samples[0].startswith("INFO GET")]
    assert requests.count == 8 and requests.errors == 0
    assert sigs["unparsed"].count == 1


def test_without_a_level_error_words_decide() -> None:
    (sig,) = signatures(lines(("Traceback (most recent call last)", None)))
    assert sig.errors == 1


def test_templates_of_the_same_event_match_at_either_generality() -> None:
    assert same_signature("disk <*> is full", "disk sda1 is full")
    assert same_signature("disk sda1 is full", "disk <*> is full")
    assert not same_signature("disk <*> is full", "disk <*> is empty")


def test_new_spiking_and_top_errors_against_what_was_known() -> None:
    day = signatures(
        lines(
            *((f"payment {n} declined by bank", "ERROR") for n in range(40)),
            *((f"cache miss for key {n}", "INFO") for n in range(12)),
            ("schema migration 42 applied", "INFO"),
        )
    )
    by_text = {s.template: s for s in day}
    known = {"k1": "payment <*> declined by bank", "k2": "cache miss for key <*>"}
    result = review(day, known, baseline={"k1": 5.0, "k2": 11.0})
    assert [s.template for s in result.new] == ["schema migration <*> applied"]
    assert [(s.template, base) for s, base in result.spiking] == [
        ("payment <*> declined by bank", 5.0)
    ]  # 40 against 5 a day; 12 cache misses against 11 is normal
    assert result.top_errors == [by_text["payment <*> declined by bank"]]
    assert result.canonical[by_text["cache miss for key <*>"].id] == "k2"
