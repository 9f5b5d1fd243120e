"""The Prometheus connection block: where the performance review reads metrics from."""

from __future__ import annotations

from typing import ClassVar

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl, SecretStr

from postdeploy.adapters.prometheus import PrometheusApi


class PrometheusConnection(Block):
    """A Prometheus server's HTTP API, with optional bearer token or basic auth."""

    _block_type_name: ClassVar[str] = "postdeploy Prometheus"
    _documentation_url: ClassVar[HttpUrl | None] = HttpUrl(
        "https://github.com/postdeploy/postdeploy#blocks"
    )
    _code_example: ClassVar[str] = """
        from blocks import PrometheusConnection

        prometheus = PrometheusConnection.load("BLOCK_NAME")
        api = prometheus.api()
        """

    url: str = Field(description="Base URL of the Prometheus server, e.g. http://prom:9090.")
    token: SecretStr | None = Field(default=None, description="Bearer token, if required.")
    username: str | None = Field(default=None, description="Basic auth user, if required.")
    password: SecretStr | None = Field(default=None, description="Basic auth password.")

    def api(self) -> PrometheusApi:
        return PrometheusApi(
            url=self.url,
            token=self.token.get_secret_value() if self.token else None,
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
        )
