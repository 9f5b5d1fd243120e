import math

import pytest

from postdeploy.domain.metrics import (
    ExpositionError,
    ScrapeNames,
    derive,
    histogram_quantile,
    increase,
    parse_exposition,
    total,
)

TEXT = """# HELP req Requests.
# TYPE req counter
req{code="200",path="/a"} 90
req{code="500",path="/a"} 10 1700000000000
req{path="/q\\"x\\\\",code="503"} 5
mem 1.5e6
"""


def test_the_text_format_is_read_with_labels_escapes_and_timestamps() -> None:
    samples = parse_exposition(TEXT)
    assert samples[("req", (("code", "200"), ("path", "/a")))] == 90
    assert samples[("req", (("code", "503"), ("path", '/q"x\\')))] == 5
    assert samples[("mem", ())] == 1.5e6
    assert total(samples, "req") == 105
    assert total(samples, "req", {"code": "5.."}) == 15
    assert total(samples, "absent") is None


def test_a_malformed_line_names_its_number() -> None:
    with pytest.raises(ExpositionError, match="line 2"):
        parse_exposition("ok 1\nthis is not a sample line at all\n")


def test_a_counter_reset_counts_from_zero() -> None:
    assert increase(100, 130) == 30
    assert increase(100, 7) == 7
    assert increase(None, 7) is None


def test_histogram_quantile_interpolates_within_the_bucket_as_prometheus_does() -> None:
    buckets = [(0.1, 50.0), (0.2, 90.0), (0.5, 100.0), (math.inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.7, buckets) == pytest.approx(0.15)
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.35)
    assert histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]) is None


def test_two_scrapes_give_the_standard_series() -> None:
    names = ScrapeNames("req", "code", "dur", "cpu", "mem")

    def scrape(ok: float, bad: float, fast: float, slow: float, cpu: float) -> str:
        return (
            f'req{{code="200"}} {ok}\nreq{{code="500"}} {bad}\n'
            f'dur_bucket{{le="0.05"}} {fast}\ndur_bucket{{le="0.5"}} {fast + slow}\n'
            f'dur_bucket{{le="+Inf"}} {fast + slow}\ncpu {cpu}\nmem 2000\n'
        )

    before = parse_exposition(scrape(100, 0, 100, 0, 1.0))
    after = parse_exposition(scrape(280, 20, 280, 20, 4.0))
    values = derive(before, after, 60.0, names)
    assert values["throughput_rps"] == pytest.approx(200 / 60)
    assert values["error_rate"] == pytest.approx(0.1)
    assert values["cpu_cores"] == pytest.approx(0.05)
    assert values["memory_bytes"] == 2000
    assert values["latency_p50_ms"] == pytest.approx(50 * 100 / 180)
    assert 50 < values["latency_p99_ms"] <= 500


def test_a_first_scrape_gives_only_what_needs_no_history() -> None:
    names = ScrapeNames("req", "code", "d", resident_memory="mem")
    only = derive({}, parse_exposition("mem 10\nreq 5\n"), 0.0, names)
    assert only == {"memory_bytes": 10}


def test_disk_used_ratio_comes_from_the_filesystem_gauges_of_one_scrape() -> None:
    text = 'fs_size{path="/a"} 1000\nfs_size{path="/b"} 3000\nfs_free{path="/a"} 100\n'
    text += 'fs_free{path="/b"} 900\n'
    names = ScrapeNames(filesystem_size="fs_size", filesystem_free="fs_free")
    assert derive({}, parse_exposition(text), 0.0, names) == {"disk_used_ratio": 0.75}
    assert "disk_used_ratio" not in derive({}, parse_exposition("fs_size 0\nfs_free 0\n"), 0, names)
