"""The error family. Services raise these; the web edge maps each once to status, code and Chinese message.

Every code here is part of the contract (shared/contract/api.md): clients switch on `code`,
people read `message`.
"""
from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A failure the caller can understand: status, stable English code, Chinese message."""

    status = 400
    code = "BAD_REQUEST"
    message = "请求有误"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.details = details or None

    def body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def _error(name: str, status: int, code: str, message: str) -> type[AppError]:
    return type(name, (AppError,), {"status": status, "code": code, "message": message})


ValidationError = _error("ValidationError", 400, "VALIDATION_ERROR", "请求参数不正确")
InvalidJSONError = _error("InvalidJSONError", 400, "INVALID_JSON", "请求体不是有效的 JSON")
InvalidCursorError = _error("InvalidCursorError", 400, "INVALID_CURSOR", "分页游标无效")
InvalidCodeError = _error("InvalidCodeError", 400, "INVALID_CODE", "登录凭证无效或已过期，请重新登录")
UnauthenticatedError = _error("UnauthenticatedError", 401, "UNAUTHENTICATED", "请先登录")
ForbiddenError = _error("ForbiddenError", 403, "FORBIDDEN", "无权执行此操作")
AccountFrozenError = _error("AccountFrozenError", 403, "ACCOUNT_FROZEN", "账户已被冻结，暂不能获得或使用积分")
RiskyUserError = _error("RiskyUserError", 403, "RISKY_USER", "该微信账号存在风险，暂不能登录")
NotFoundError = _error("NotFoundError", 404, "NOT_FOUND", "对象不存在")
RouteNotFoundError = _error("RouteNotFoundError", 404, "NOT_FOUND", "接口不存在")
UnknownBehaviorError = _error("UnknownBehaviorError", 404, "UNKNOWN_BEHAVIOR", "没有这种低碳行为")
MethodNotAllowedError = _error("MethodNotAllowedError", 405, "METHOD_NOT_ALLOWED", "不支持该请求方法")
IdempotencyConflictError = _error("IdempotencyConflictError", 409, "IDEMPOTENCY_CONFLICT",
                                  "该请求编号已用于另一个请求")
UnsupportedMediaTypeError = _error("UnsupportedMediaTypeError", 415, "UNSUPPORTED_MEDIA_TYPE",
                                   "请求体须为 application/json")
NotSelfReportableError = _error("NotSelfReportableError", 422, "NOT_SELF_REPORTABLE",
                                "该行为由合作方自动记录，不能手动打卡")
InsufficientPointsError = _error("InsufficientPointsError", 422, "INSUFFICIENT_POINTS", "积分不足")
DailyLimitReachedError = _error("DailyLimitReachedError", 429, "DAILY_LIMIT_REACHED", "今日该行为次数已达上限")
RateLimitedError = _error("RateLimitedError", 429, "RATE_LIMITED", "操作太频繁，请稍后再试")
InternalError = _error("InternalError", 500, "INTERNAL_ERROR", "服务器开小差了，请稍后再试")
ServiceUnavailableError = _error("ServiceUnavailableError", 503, "SERVICE_UNAVAILABLE", "服务繁忙，请稍后重试")
WeChatUnavailableError = _error("WeChatUnavailableError", 503, "WECHAT_UNAVAILABLE", "微信服务暂时不可用，请稍后重试")
