"""The one typed settings object. Nothing else in the project reads os.environ."""
from __future__ import annotations

import base64
import os
from functools import lru_cache
from urllib.parse import urlsplit

from .domain.values import immutable


class SettingsError(RuntimeError):
    """The environment does not describe a runnable app (missing or weak secret, bad value)."""


@immutable
class Settings:
    jwt_secret: bytes
    data_key: bytes
    jwt_ttl_seconds: int
    table_prefix: str
    aws_region: str | None
    dynamodb_endpoint: str | None
    wechat_api_base: str
    wechat_appid: str | None
    wechat_secret: str | None
    transit_api_base: str | None
    transit_app_id: str | None
    transit_secret: str | None
    bank_api_base: str | None
    bank_client_id: str | None
    bank_client_secret: str | None
    bank_webhook_secret: str | None
    partner_timeout_seconds: float
    jwt_issuer: str = "greensprout"
    jwt_audience: str = "greensprout-miniprogram"
    ledger_stream_arn: str | None = None  # the ledger table's stream: boards and stats (services/aggregate.py)
    identity_stream_arn: str | None = None  # the identities table's stream: registrations and logins
    write_rate_per_minute: int = 60  # writes one user may make a minute (chalicelib/ratelimit.py)
    # Key rotation (docs/deploy.md, "Rotating DATA_KEY and JWT_SECRET"): see _keys() below.
    data_keys: tuple[tuple[str, bytes], ...] = ()  # (key id, key): the current key first, then previous ones
    legacy_data_keys: tuple[bytes, ...] = ()  # what opens a value sealed before key ids (sealing.py)
    jwt_secret_previous: bytes | None = None  # still verifies tokens it signed (services/tokens.py)
    login_rate_per_minute: int = 30  # logins one source IP may make a minute, per container (ratelimit.py)
    exports_per_hour: int = 5  # GET /v1/me/export per user and clock hour (services/quotas.py)
    partner_sync_interval_seconds: float = 60.0  # between two POST /v1/partners/{id}/sync of a user and partner; 0: off
    # The AppSecret of each platform's mini program but `default`'s (WECHAT_SECRET): WECHAT_SECRET__<ID>
    # (chalicelib/domain/platforms.secret_name), as (setting name, secret) pairs.
    wechat_platform_secrets: tuple[tuple[str, str], ...] = ()
    # The secret of each open-protocol partner: PARTNER_SECRET__<ID> (chalicelib/domain/open_partners.py), as
    # (setting name, secret) pairs.
    partner_secrets: tuple[tuple[str, str], ...] = ()
    # The bucket of the evidence photos (EVIDENCE_BUCKET; default: TABLE_PREFIX + "evidence"). A local
    # S3-compatible server is reached through the standard AWS_ENDPOINT_URL_S3, which boto3 reads itself.
    evidence_bucket: str = "greensprout-dev-evidence"
    s3_endpoint: str | None = None  # AWS_ENDPOINT_URL_S3: boto3 reads it; here only to address the bucket by path
    # The first business day the transparency roots cover (TRANSPARENCY_FIRST_DAY, YYYY-MM-DD): a day on which every
    # entry carries `root_key` (the deployment of the roots, or later). Unset: the roots job roots nothing.
    transparency_first_day: str | None = None

    def wechat_secret_of(self, platform_id: str) -> str | None:
        """The AppSecret of a platform's mini program (`default`'s: WECHAT_SECRET); None when it is not set."""
        from .domain.platforms import DEFAULT, secret_name

        if platform_id == DEFAULT:
            return self.wechat_secret
        return dict(self.wechat_platform_secrets).get(secret_name(platform_id))

    def partner_secret_of(self, partner_id: str) -> str | None:
        """The secret of an open-protocol partner (PARTNER_SECRET__<ID>); None when it is not set."""
        from .domain.open_partners import secret_setting

        return dict(self.partner_secrets).get(secret_setting(partner_id))


def _derive_data_key(jwt_secret: bytes) -> bytes:
    """Development-only DATA_KEY: HKDF-SHA256 of JWT_SECRET (operations.md)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"greensprout-data-key",
                info=b"DATA_KEY").derive(jwt_secret)


def _number(env: dict, name: str, default: str, cast: type, zero_ok: bool = False) -> int | float:
    raw = env.get(name) or default
    try:
        value = cast(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0 or (value == 0 and not zero_ok) or value != value:
        raise SettingsError(f"{name} must be {'zero or ' if zero_ok else ''}positive, got {raw!r}")
    return value


PARTNER_BASES = ("WECHAT_API_BASE", "TRANSIT_API_BASE", "BANK_API_BASE")


def _require_https(env: dict | os._Environ) -> None:
    """A deployed stage (SSM_PARAMETER_PATH set) talks to partners over https:// only: phone numbers, the
    app secret and tokens travel in those calls. The local stack and the tests (no SSM_PARAMETER_PATH) use
    the fakes on http://127.0.0.1."""
    if not env.get("SSM_PARAMETER_PATH"):
        return
    for name in PARTNER_BASES:
        value = env.get(name) or ""
        if value and not (urlsplit(value).scheme == "https" and urlsplit(value).hostname):
            raise SettingsError(f"{name} must be an https:// URL in a deployed stage, got {value!r}")


def from_environ(env: dict | os._Environ = os.environ) -> Settings:
    """Reads and checks every setting; raises SettingsError with a message an operator can act on."""
    secret = (env.get("JWT_SECRET") or "").encode()
    if len(secret) < 32:
        raise SettingsError("JWT_SECRET must be set to at least 32 bytes")
    keys = _keys(env, secret)
    _require_https(env)
    return Settings(
        jwt_secret=secret,
        data_key=keys["data_keys"][0][1],
        jwt_ttl_seconds=int(_number(env, "JWT_TTL_SECONDS", "7200", int)),
        table_prefix=env.get("TABLE_PREFIX") or "greensprout-dev-",
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        wechat_api_base=(env.get("WECHAT_API_BASE") or "https://api.weixin.qq.com").rstrip("/"),
        wechat_appid=env.get("WECHAT_APPID"),
        wechat_secret=env.get("WECHAT_SECRET"),
        transit_api_base=(env.get("TRANSIT_API_BASE") or "").rstrip("/") or None,
        transit_app_id=env.get("TRANSIT_APP_ID"),
        transit_secret=env.get("TRANSIT_SECRET"),
        bank_api_base=(env.get("BANK_API_BASE") or "").rstrip("/") or None,
        bank_client_id=env.get("BANK_CLIENT_ID"),
        bank_client_secret=env.get("BANK_CLIENT_SECRET"),
        bank_webhook_secret=env.get("BANK_WEBHOOK_SECRET"),
        partner_timeout_seconds=float(_number(env, "PARTNER_TIMEOUT_SECONDS", "3", float)),
        ledger_stream_arn=env.get("LEDGER_STREAM_ARN") or None,
        identity_stream_arn=env.get("IDENTITY_STREAM_ARN") or None,
        write_rate_per_minute=int(_number(env, "WRITE_RATE_PER_MINUTE", "60", int)),
        **keys,
        login_rate_per_minute=int(_number(env, "LOGIN_RATE_PER_MINUTE", "30", int)),
        exports_per_hour=int(_number(env, "EXPORTS_PER_HOUR", "5", int)),
        partner_sync_interval_seconds=float(_number(env, "PARTNER_SYNC_INTERVAL_SECONDS", "60", float, zero_ok=True)),
        wechat_platform_secrets=tuple(sorted((name, value) for name, value in env.items()
                                             if name.startswith(PLATFORM_SECRET_PREFIX) and value)),
        partner_secrets=tuple(sorted((name, value) for name, value in env.items()
                                     if name.startswith(PARTNER_SECRET_PREFIX) and value)),
        evidence_bucket=env.get("EVIDENCE_BUCKET") or (env.get("TABLE_PREFIX") or "greensprout-dev-") + "evidence",
        s3_endpoint=env.get("AWS_ENDPOINT_URL_S3") or None,
        transparency_first_day=_day(env.get("TRANSPARENCY_FIRST_DAY")),
    )


def _day(raw: str | None) -> str | None:
    if not raw:
        return None
    from datetime import date

    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError as exc:
        raise SettingsError("TRANSPARENCY_FIRST_DAY must be a day, YYYY-MM-DD") from exc


# --- Keys, their rotation and each stage's token names (issue 17, items 8 and 13) ---------------------------

def data_key_id(key: bytes) -> str:
    """The id a sealed value names its key by: a digest of the key (never the key), so the same key has the
    same id whether it comes as DATA_KEY or in DATA_KEYS, in whatever order."""
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(b"greensprout data key id|" + key).digest()).decode()[:12]


def _data_key(raw: str, name: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError as exc:
        raise SettingsError(f"{name} must be base64") from exc
    if len(key) != 32:
        raise SettingsError(f"{name} must be base64 of exactly 32 bytes")
    return key


def _keys(env: dict | os._Environ, secret: bytes) -> dict:
    """DATA_KEYS ("<base64>,<base64>,...", the current key first, then the previous ones still to be opened)
    or DATA_KEY (one key); when both are set, DATA_KEY must be one of DATA_KEYS. Neither: the key derived from
    JWT_SECRET, for local development only; a deployed stage (SSM_PARAMETER_PATH set) refuses to start.
    JWT_SECRET_PREVIOUS: the secret before a rotation, still accepted on the tokens it signed (docs/deploy.md).
    JWT_ISSUER, JWT_AUDIENCE: each stage's own; a deployed stage defaults to "greensprout/<stage>" and
    "greensprout-miniprogram/<stage>" (<stage> the last part of SSM_PARAMETER_PATH), local to the dataclass's."""
    single, listed = env.get("DATA_KEY"), env.get("DATA_KEYS")
    keys = [_data_key(raw, "every key of DATA_KEYS") for raw in (listed or "").split(",") if raw.strip()]
    if listed and not keys:
        raise SettingsError("DATA_KEYS must list base64 keys, the current one first, separated by commas")
    if len(set(keys)) != len(keys):
        raise SettingsError("DATA_KEYS lists a key twice")
    if single and (key := _data_key(single, "DATA_KEY")) not in keys:
        if keys:
            raise SettingsError("DATA_KEY is not one of DATA_KEYS: list every key still in use in DATA_KEYS "
                                "(current first) and set DATA_KEY to one of them, or unset it (docs/deploy.md)")
        keys = [key]
    path = env.get("SSM_PARAMETER_PATH")
    if not keys and path:
        raise SettingsError(f"DATA_KEY must be set in a deployed stage (SSM_PARAMETER_PATH is {path}): put it "
                            f"under {path} in Parameter Store (docs/deploy.md); the key derived from JWT_SECRET "
                            "is for local development only")
    previous = (env.get("JWT_SECRET_PREVIOUS") or "").encode() or None
    if previous is not None and len(previous) < 32:
        raise SettingsError("JWT_SECRET_PREVIOUS, when set, must be at least 32 bytes")
    derived = [_derive_data_key(s) for s in (secret, previous) if s]
    keys = keys or derived[:1]
    stage = (path or "").strip("/").rsplit("/", 1)[-1]
    return {"data_keys": tuple((data_key_id(key), key) for key in keys),
            "legacy_data_keys": tuple(dict.fromkeys(keys + derived)),
            "jwt_secret_previous": previous if previous != secret else None,
            "jwt_issuer": env.get("JWT_ISSUER") or (f"greensprout/{stage}" if stage else Settings.jwt_issuer),
            "jwt_audience": env.get("JWT_AUDIENCE") or (f"greensprout-miniprogram/{stage}" if stage
                                                        else Settings.jwt_audience)}


SECRET_NAMES = ("JWT_SECRET", "DATA_KEY", "WECHAT_SECRET", "TRANSIT_SECRET", "BANK_CLIENT_SECRET",
                "BANK_WEBHOOK_SECRET")
ROTATION_SECRET_NAMES = ("DATA_KEYS", "JWT_SECRET_PREVIOUS")  # set only during a rotation (docs/deploy.md)
PLATFORM_SECRET_PREFIX = "WECHAT_SECRET__"  # a platform's AppSecret, WECHAT_SECRET__<ID> (docs/platforms.md)
PARTNER_SECRET_PREFIX = "PARTNER_SECRET__"  # an open-protocol partner's secret, PARTNER_SECRET__<ID> (docs/partners.md)


def with_parameter_store(env: dict | os._Environ) -> dict | os._Environ:
    """A deployed stage keeps its secrets in SSM Parameter Store under SSM_PARAMETER_PATH (docs/deploy.md).
    The secrets missing from the environment are read from there (the environment wins); without the path
    (local runs, tests) or with every secret set, nothing is fetched."""
    path = env.get("SSM_PARAMETER_PATH")
    if not path or all(env.get(name) for name in SECRET_NAMES):
        return env
    import botocore.session  # in the Lambda runtime; imported only when a stage reads its secrets
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = botocore.session.get_session().create_client(
        "ssm", region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        endpoint_url=env.get("AWS_ENDPOINT_URL_SSM") or None,
        config=Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 3, "mode": "standard"}))
    stored = {}
    try:
        for page in client.get_paginator("get_parameters_by_path").paginate(Path=path, WithDecryption=True):
            stored.update({p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in page.get("Parameters", [])})
    except (BotoCoreError, ClientError) as exc:
        raise SettingsError(f"cannot read the secrets under {path} from SSM Parameter Store: {exc}") from exc
    names = SECRET_NAMES + ROTATION_SECRET_NAMES
    wanted = [name for name in stored
              if name in names or name.startswith((PLATFORM_SECRET_PREFIX, PARTNER_SECRET_PREFIX))]
    return {**{name: stored[name] for name in wanted}, **{k: v for k, v in env.items() if v}}


def stream_arns(env: dict | os._Environ = os.environ) -> tuple[str | None, str | None]:
    """LEDGER_STREAM_ARN and IDENTITY_STREAM_ARN: the only settings read when app.py is imported, because
    Chalice registers a stream's handler (and `chalice package` its event source) at import. Checks nothing
    else and fetches nothing; every other setting is read on first use (get_settings)."""
    return env.get("LEDGER_STREAM_ARN") or None, env.get("IDENTITY_STREAM_ARN") or None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once (secrets from Parameter Store at most once per container)."""
    return from_environ(with_parameter_store(os.environ))
