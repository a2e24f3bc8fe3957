"""Which platform a request is for, and what a platform is (shared/contract/platforms.md).

`default` is the catalog's top level and is answered without reading anything; another platform comes from
the catalog's `platform` partition (services/catalog.py: read at most once a minute per container).
"""
from __future__ import annotations

from ..domain.platforms import DEFAULT, Platform, default_platform, is_platform_id, platform_from_catalog
from ..errors import UnknownPlatformError
from ..settings import get_settings
from . import catalog


def platform(platform_id: object) -> Platform:
    """The platform of that id; 404 UNKNOWN_PLATFORM for anything else."""
    if platform_id == DEFAULT:
        from .partners import every_partner_id  # here: a login's cold start need not import the partners' clients

        return default_platform(sorted(catalog.behaviors()), every_partner_id())
    data = catalog.platforms().get(platform_id) if is_platform_id(platform_id) else None
    if data is None:
        raise UnknownPlatformError(platform=platform_id if isinstance(platform_id, str) else None)
    return platform_from_catalog(data)


def every_id() -> list[str]:
    """`default`, then every platform of the catalog in id order: what `--platform all` and the jobs go through."""
    return [DEFAULT, *sorted(catalog.platforms())]


def require_known(platform_id: object) -> str:
    """The id when it names a platform (no read for `default`); 404 UNKNOWN_PLATFORM otherwise."""
    if platform_id != DEFAULT:
        platform(platform_id)
    return DEFAULT if platform_id == DEFAULT else str(platform_id)


def name_of(platform_id: str) -> str:
    """The platform's name, for `{"id", "name"}` in responses (no read for `default`)."""
    return platform(platform_id).name if platform_id != DEFAULT else default_platform([], ()).name


def wechat_credentials(platform_id: str) -> tuple[str | None, str | None]:
    """The platform's mini program: (appid, AppSecret). `default`'s are WECHAT_APPID and WECHAT_SECRET;
    another's appid is its catalog entry's, its secret WECHAT_SECRET__<ID> (None when unset)."""
    settings = get_settings()
    appid = settings.wechat_appid if platform_id == DEFAULT else platform(platform_id).wechat_appid
    return appid, settings.wechat_secret_of(platform_id)
