"""GreenSprout's API: registers the blueprints and maps Chalice's own rejections to the contract.

Only app.py and chalicelib/ are deployed; nothing here imports admin/, infra/ or tests.
"""
import json
import logging

from chalice import Chalice, Rate, Response
from chalice.app import Request

from chalicelib import jobs, observability, scheduling
from chalicelib.api import (
    appeals,
    auth,
    checkins,
    leaderboards,
    market,
    me,
    merchant,
    orgs,
    partners,
    platform,
    privacy,
    subscriptions,
    transparency,
    trees,
    uploads,
    werun,
)
from chalicelib.errors import (
    AppError,
    InternalError,
    MethodNotAllowedError,
    RouteNotFoundError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from chalicelib.settings import SettingsError, get_settings, stream_arns

app = Chalice(app_name="greensprout")
app.log.setLevel(logging.INFO)
app.api.cors = False
for blueprint in (auth.routes, me.routes, checkins.routes, market.routes, merchant.routes, trees.routes,
                  orgs.routes, leaderboards.routes, werun.routes, partners.routes,
                  privacy.routes,  # GET /v1/me/export, DELETE /v1/me
                  platform.routes,  # GET /v1/platform
                  appeals.routes,  # POST /v1/me/appeals (docs/risk.md)
                  subscriptions.routes,  # POST and GET /v1/me/subscriptions (docs/nudges.md)
                  uploads.routes,  # POST /v1/uploads (evidence photos)
                  transparency.routes):  # GET /v1/transparency/roots, GET /v1/me/ledger/{entry_id}/proof
    app.register_blueprint(blueprint)


# JSON log lines, one per request, and EMF metrics (chalicelib/observability.py). Registered first, so it is
# the outermost middleware and logs the status the client gets; before the jobs, so theirs flush too.
observability.install(app.log)
app.register_middleware(observability.request_log, "http")
for _event_type in ("scheduled", "pure_lambda", "dynamodb"):
    app.register_middleware(observability.flush_after, _event_type)


@app.middleware("all")
def refuse_without_settings(event, get_response):
    """Importing app.py reads nothing (settings.py): a container's first invocation reads and checks the
    settings and, with a missing or weak JWT_SECRET or a bad value, logs the SettingsError's message and
    serves nothing (HTTP: the contract's 500; a job or stream: the error, so AWS retries). Later
    invocations find the settings cached."""
    try:
        get_settings()
    except SettingsError:
        app.log.exception("refusing to serve: the settings are not valid")
        if not isinstance(event, Request):
            raise
        error = InternalError()
        return Response(body=json.dumps(error.body(), ensure_ascii=False), status_code=error.status,
                        headers={"Content-Type": "application/json; charset=utf-8"})
    return get_response(event)


_CHALICE_ERRORS: dict[int, type[AppError]] = {
    400: ValidationError, 403: RouteNotFoundError, 404: RouteNotFoundError, 405: MethodNotAllowedError,
    415: UnsupportedMediaTypeError,
}


@app.middleware("http")
def contract_errors(event, get_response):
    """Chalice answers some requests itself (wrong method, unsupported media type, its own 500):
    give those the contract's error shape too."""
    response = get_response(event)
    if response.status_code < 400 or _is_contract_error(response.body):
        return response
    error = _CHALICE_ERRORS.get(response.status_code, InternalError)()
    headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
    headers["Content-Type"] = "application/json; charset=utf-8"
    return Response(body=json.dumps(error.body(), ensure_ascii=False), status_code=error.status, headers=headers)


# The platform of each request (shared/contract/platforms.md): UNKNOWN_PLATFORM, PLATFORM_MISMATCH, and another
# platform than `default` only on the routes that serve platforms (chalicelib/api/platform.py).
app.register_middleware(platform.platform_edge, "http")


def _is_contract_error(body) -> bool:
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]


# What `python -m admin run-jobs` runs locally, AWS runs on a schedule: one Lambda function per job of
# chalicelib/jobs.py (infra/aws sizes it), named after the job, whose handler is `app.job_<name>` below, one
# per job (tests/infra/test_template.py fails if a job has none). A sharded job's function only fans out, one
# `jobs_worker` invocation per shard (chalicelib/scheduling.py). Jobs are idempotent per their natural key:
# a late or repeated run changes nothing more.
def _job(name: str):
    """`app.schedule` for the job `name` of jobs.JOBS: its own EventBridge expression (UTC, e.g. tree
    accrual's "cron(0 16 * * ? *)" = 00:00 Asia/Shanghai), else every `every_seconds` (whole days or hours
    when it divides, else minutes)."""
    job = jobs.job_named(name)
    schedule = job.schedule
    if not schedule:
        unit, size = next(((unit, size) for unit, size in ((Rate.DAYS, 86400), (Rate.HOURS, 3600))
                           if job.every_seconds % size == 0), (Rate.MINUTES, 60))
        schedule = Rate(max(1, job.every_seconds // size), unit=unit)
    return app.schedule(schedule, name=name)


def _run_job(name: str, event):
    return jobs.on_schedule(jobs.job_named(name), event.time, getattr(event.context, "function_name", None))


@_job("accrue-trees")
def job_accrue_trees(event):
    return _run_job("accrue-trees", event)


@_job("expire-redemptions")
def job_expire_redemptions(event):
    return _run_job("expire-redemptions", event)


@_job("fold-aggregates")
def job_fold_aggregates(event):
    return _run_job("fold-aggregates", event)


@_job("materialize-boards")
def job_materialize_boards(event):
    return _run_job("materialize-boards", event)


@_job("retry-partner-revocations")
def job_retry_partner_revocations(event):
    return _run_job("retry-partner-revocations", event)


@_job("expire-points")
def job_expire_points(event):
    return _run_job("expire-points", event)


@_job("recheck-nicknames")
def job_recheck_nicknames(event):
    return _run_job("recheck-nicknames", event)


@_job("finish-erasures")
def job_finish_erasures(event):
    return _run_job("finish-erasures", event)


@_job("send-nudges")
def job_send_nudges(event):
    return _run_job("send-nudges", event)


@_job("send-receipts")
def job_send_receipts(event):
    return _run_job("send-receipts", event)


@_job("transparency-roots")
def job_transparency_roots(event):
    return _run_job("transparency-roots", event)


@app.lambda_function(name=scheduling.WORKER)
def jobs_worker(event, context):
    """One shard of a sharded job; hands what is left to a fresh invocation before its time runs out."""
    return jobs.on_worker(event, context.get_remaining_time_in_millis, context.function_name)


# DynamoDB Streams, when their ARNs are set: new ledger entries and logins feed the leaderboards, the org
# totals and the stats (chalicelib/services/aggregate.py; services/fold.py folds them on a schedule).
# Off AWS, `python -m admin run-jobs` drains DynamoDB Local's streams into the same handlers.
_ledger_stream_arn, _identity_stream_arn = stream_arns()
if _ledger_stream_arn:
    @app.on_dynamodb_record(stream_arn=_ledger_stream_arn, batch_size=500, starting_position="TRIM_HORIZON")
    def ledger_stream(event):
        from chalicelib.services import aggregate

        return {"filed": aggregate.accept_ledger(event.to_dict()["Records"])}

if _identity_stream_arn:
    @app.on_dynamodb_record(stream_arn=_identity_stream_arn, batch_size=500, starting_position="TRIM_HORIZON")
    def identity_stream(event):
        from chalicelib.services import aggregate

        return {"filed": aggregate.accept_identities(event.to_dict()["Records"])}
