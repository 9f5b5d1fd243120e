"""Objects that carry secrets into tasks show none of them when printed or logged."""

from __future__ import annotations

from postdeploy.adapters.notify import Target
from postdeploy.adapters.prometheus import PrometheusApi


def test_a_notification_target_repr_hides_its_url_token_and_password() -> None:
    target = Target(
        kind="webhook", url="https://hooks.example/T0/B0/url-secret", token="tok-secret",
        username="ops", password="pw-secret",
    )  # fmt: skip
    shown = repr(target) + str(target)
    assert "url-secret" not in shown and "tok-secret" not in shown and "pw-secret" not in shown
    assert "webhook" in shown and "ops" in shown


def test_a_prometheus_api_repr_hides_its_token_and_password() -> None:
    api = PrometheusApi(url="http://prom:9090", token="tok-secret", username="u", password="pw")
    shown = repr(api)
    assert "tok-secret" not in shown and "'pw'" not in shown
    assert "http://prom:9090" in shown
