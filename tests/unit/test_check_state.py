from postdeploy.domain.checks import CheckOutcome, CheckState, advance


def outcome(ok: bool, ts: float, detail: str = "") -> CheckOutcome:
    return CheckOutcome("api", "health", ok, ts, 10.0, 200 if ok else 500, detail or "x")


def run(oks: list[bool], threshold: int = 1) -> tuple[CheckState, list[str]]:
    state = None
    seen = []
    for ts, ok in enumerate(oks):
        state, transition = advance(state, outcome(ok, float(ts)), threshold)
        if transition:
            seen.append(f"{transition.previous}->{transition.current}@{ts}")
    assert state is not None
    return state, seen


def test_a_first_healthy_result_is_not_announced() -> None:
    state, seen = run([True])
    assert state.status == "up" and seen == []


def test_a_check_that_starts_down_is_announced() -> None:
    _, seen = run([False])
    assert seen == ["unknown->down@0"]


def test_one_failure_below_the_threshold_is_not_an_outage() -> None:
    state, seen = run([True, False, False, True], threshold=3)
    assert seen == [] and state.status == "up" and state.failures == 0


def test_the_outage_starts_at_the_failure_that_reaches_the_threshold() -> None:
    state, seen = run([True, False, False, False, False], threshold=3)
    assert seen == ["up->down@3"]
    assert state.status == "down" and state.since == 3.0 and state.failures == 4


def test_the_first_success_after_an_outage_recovers_it() -> None:
    _, seen = run([True, False, False, True, True], threshold=2)
    assert seen == ["up->down@2", "down->up@3"]


def test_the_transition_names_the_check_and_the_reason() -> None:
    _, transition = advance(None, outcome(False, 1.0, "HTTP 500, expected 200"))
    assert transition is not None
    assert transition.fingerprint == "check-down:api:health"
    assert transition.summary == "api/health is DOWN: HTTP 500, expected 200"
