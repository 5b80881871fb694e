"""GET /metrics: the Prometheus exposition, and the middleware that counts requests by route."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.enums import MediaType
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from projections.registry import projection_names
from tracker.api.dependencies import provide_principal
from tracker.api.resources.common import problem_response
from tracker.application import reads
from tracker.observability.embedded import embedded_data
from tracker.observability.readings import Snapshot, Sources, read
from tracker.settings import Settings

RULE = "only-auditors-and-admins-read-metrics"

# Request counts and latencies by route template (group_path), never by raw path: one series
# per route, however many ids are asked for.
REQUESTS = PrometheusConfig(app_name="tracker", prefix="tracker_http", group_path=True)


def metrics_controller(settings: Settings) -> type[Controller]:
    """The /metrics controller; public when TRACKER_METRICS_PUBLIC is set."""
    sources = Sources(sorted(projection_names()), embedded_data(settings))

    class MetricsController(Controller):
        """Operators' monitoring scrapes the service here."""

        path = "/metrics"
        tags = ("operations",)
        opt = {"public": True} if settings.metrics_public else {}

        @get(
            operation_id="getMetrics",
            summary="Expose the service's metrics in the Prometheus text format",
            description=(
                "Request rates and latencies by route, appends, the transaction horizon, "
                "projection and sealer lag, and the connection pool (docs/operations.md lists "
                "every metric). Needs an auditor or admin token unless the server runs with "
                "`TRACKER_METRICS_PUBLIC=true`."
            ),
            media_type=MediaType.TEXT,
            responses={
                401: problem_response("No bearer token, or an unknown, revoked or expired one"),
                403: problem_response("Only auditors and admins read the metrics"),
            },
        )
        async def metrics(self, request: Request[Any, Any, Any]) -> Response[str]:
            """Every metric, the database's read at this moment."""
            if not request.route_handler.opt.get("public"):
                reads.require_log_reader(provide_principal(request), RULE)
            families = await read(request.app.state.pool, sources)
            text = generate_latest(Snapshot([REGISTRY], families))
            return Response(text.decode(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return MetricsController
