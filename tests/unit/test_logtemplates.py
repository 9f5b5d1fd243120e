"""Template mining on logs the tests write themselves: masks, grouping, stable ids."""

from __future__ import annotations

import random

import pytest

from postdeploy.domain.logtemplates import VAR, Masker, TemplateMiner, render, template_id


def mask(message: str) -> str:
    return render(Masker().tokens(message))


def mined(messages: list[str]) -> list[tuple[str, str]]:
    return TemplateMiner().mine(messages)


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("took 1234 ms in 17 steps", "took <*> in <*> steps"),
        ("connect from 10.0.0.12:8443 refused", "connect from <*> refused"),
        ("peer fe80::1ff:fe23:4567:890a down", "peer <*> down"),
        ("nic 00:1a:2b:3c:4d:5e up", "nic <*> up"),
        ("trace id 7f3a9c0b22e1 closed", "trace id <*> closed"),
        ("register 0xDEADBEEF mask ffffffff", "register <*> mask <*>"),
        ("job 123e4567-e89b-12d3-a456-426614174000 done", "job <*> done"),
        ("cannot open /var/lib/app/data.db: denied", "cannot open <*> denied"),
        (r"loaded C:\Windows\System32\kernel32.dll ok", "loaded <*> ok"),
        ("GET https://example.com/a?b=1 failed", "GET <*> failed"),
        ("user=alice uid=1000 retries=3", "user=alice uid=<*> retries=<*>"),
        ("block blk_-8234 stored on core.4411", "block blk_<*> stored on core.<*>"),
        ("at Sun Jul 10 03:55:15 2005 from tty2", "at <*> from tty<*>"),
        ("sent 4121 bytes (4.02 KB), lifetime <1 sec", "sent <*> lifetime <*>"),
        ("delete blk_1 blk_2 blk_3 now", "delete blk_<*> now"),
        ("stack @0x7fed @0x7fef @0xff83", "stack <*>"),
    ],
)
def test_masks_replace_numbers_ids_addresses_hex_uuids_paths_and_dates(
    message: str, template: str
) -> None:
    assert mask(message) == template


def test_words_and_punctuation_that_are_not_values_stay_in_the_template() -> None:
    assert (
        mask("Session closed, reason: idle (timeout)") == "Session closed, reason: idle (timeout)"
    )


def test_the_same_event_with_different_values_gets_one_template_id() -> None:
    messages = [
        f"Received block blk_{random.randint(1, 10**12)} of size {random.randint(1, 10**8)} "
        f"from /10.0.{random.randint(0, 255)}.{random.randint(0, 255)}"
        for _ in range(50)
    ]
    result = mined(messages)
    assert len({tid for tid, _ in result}) == 1
    assert result[0][1] == "Received block blk_<*> of size <*> from /<*>"


def test_different_events_get_different_template_ids() -> None:
    messages = ["Acquiring suspend blocker", "Releasing suspend blocker"] * 20
    messages += ["restart", "shutdown", "boot complete"]
    ids = dict(mined(messages))
    assert sorted(ids.values()) == [
        "Acquiring suspend blocker",
        "Releasing suspend blocker",
        "boot complete",
        "restart",
        "shutdown",
    ]


def test_a_column_with_many_different_words_becomes_a_variable() -> None:
    users = ["alice", "bob", "carol", "dave", "erin", "frank"]
    messages = [f"session opened for user {u} by (uid=0)" for u in users * 3]
    assert {t for _, t in mined(messages)} == {"session opened for user <*> by (uid=<*>)"}


def test_a_column_with_two_words_seen_often_keeps_them_as_separate_events() -> None:
    messages = ["Session initialized by client UpdateAgent."] * 30
    messages += ["Session initialized by client ServiceHost."] * 2
    assert len({tid for tid, _ in mined(messages)}) == 2


def test_two_different_value_like_words_in_one_column_are_a_variable() -> None:
    messages = [
        "Block rdd_1 stored as bytes in memory",
        "Block broadcast_7 stored as bytes in memory",
        "Destroying surface com.example.notes/.Editor",
        "Destroying surface com.example.mail/.Inbox",
    ]
    templates = {t for _, t in mined(messages)}
    assert templates == {"Block <*> stored as bytes in memory", "Destroying surface <*>"}


def test_messages_of_one_unknown_word_are_never_lumped_together() -> None:
    words = ["suspendAutohide", "cancelAutohide", "closeQs", "instantCollapse", "schedulePeek"]
    assert len({tid for tid, _ in mined(words * 2)}) == len(words)


def test_template_ids_are_a_hash_of_the_text_and_do_not_depend_on_order_or_run() -> None:
    messages = [f"worker {i} finished job {i * 7} in {i % 5} ms" for i in range(40)]
    messages += [f"worker {i} lost heartbeat" for i in range(10)]
    first = dict(mined(messages))
    shuffled = messages[:]
    random.Random(4).shuffle(shuffled)
    assert dict(mined(shuffled)) == first
    assert all(tid == template_id(text) for tid, text in first.items())
    assert len(next(iter(first))) == 12


def test_replacement_characters_and_control_bytes_do_not_stop_mining() -> None:
    messages = [
        "bad byte \ufffd\ufffd in frame 12",
        "bad byte \ufffd\ufffd in frame 13",
        "\x00\x01",
    ]
    result = mined(messages)
    assert result[0] == result[1]
    assert result[0][1] == "bad byte \ufffd\ufffd in frame <*>"
    assert len(result) == 3


def test_an_empty_message_is_its_own_template() -> None:
    assert mined(["", "x"])[0][1] == ""


def test_streaming_add_agrees_with_batch_mining_after_a_refine() -> None:
    messages = [f"session closed for user {u}" for u in ["ann", "ben", "cid", "dan", "eve"] * 4]
    messages += [f"disk {d} is {p}% full" for d, p in [("sda", 91), ("sdb", 97), ("sdc", 99)]]
    miner = TemplateMiner()
    for message in messages:
        miner.add(message)
    miner.refine()
    assert [miner.add(m) for m in messages] == [tid for tid, _ in mined(messages)]


def test_streaming_add_reuses_a_known_template_for_new_values() -> None:
    miner = TemplateMiner()
    for user in ["ann", "ben", "cid", "dan"]:
        miner.add(f"login failed for {user}")
    miner.refine()
    known = miner.add("login failed for ann")
    assert miner.add("login failed for zoe") == known


def test_templates_are_counted_most_frequent_first() -> None:
    miner = TemplateMiner()
    miner.mine(["disk full"] * 3 + [f"fan {i} at {i * 100} rpm" for i in range(5)])
    assert [(t.text, t.count) for t in miner.templates()] == [
        ("fan <*> at <*> rpm", 5),
        ("disk full", 3),
    ]


def test_variable_marker_is_the_logparser_one() -> None:
    assert VAR == "<*>"
