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
UnknownPlatformError = _error("UnknownPlatformError", 404, "UNKNOWN_PLATFORM", "没有这个平台")
PlatformMismatchError = _error("PlatformMismatchError", 403, "PLATFORM_MISMATCH",
                               "登录凭证不属于该平台，请在本平台重新登录")
UnknownBehaviorError = _error("UnknownBehaviorError", 404, "UNKNOWN_BEHAVIOR", "没有这种低碳行为")
MethodNotAllowedError = _error("MethodNotAllowedError", 405, "METHOD_NOT_ALLOWED", "不支持该请求方法")
IdempotencyConflictError = _error("IdempotencyConflictError", 409, "IDEMPOTENCY_CONFLICT",
                                  "该请求编号已用于另一个请求")
UnsupportedMediaTypeError = _error("UnsupportedMediaTypeError", 415, "UNSUPPORTED_MEDIA_TYPE",
                                   "请求体须为 application/json")
NotSelfReportableError = _error("NotSelfReportableError", 422, "NOT_SELF_REPORTABLE",
                                "该行为由合作方自动记录，不能手动打卡")
InsufficientPointsError = _error("InsufficientPointsError", 422, "INSUFFICIENT_POINTS", "积分不足")
SoldOutError = _error("SoldOutError", 409, "SOLD_OUT", "这种树苗已被认养完")
DailyLimitReachedError = _error("DailyLimitReachedError", 429, "DAILY_LIMIT_REACHED", "今日该行为次数已达上限")
RateLimitedError = _error("RateLimitedError", 429, "RATE_LIMITED", "操作太频繁，请稍后再试")
RequestTooLargeError = _error("RequestTooLargeError", 413, "REQUEST_TOO_LARGE", "请求体过大")
InternalError = _error("InternalError", 500, "INTERNAL_ERROR", "服务器开小差了，请稍后再试")
ServiceUnavailableError = _error("ServiceUnavailableError", 503, "SERVICE_UNAVAILABLE", "服务繁忙，请稍后重试")
WeChatUnavailableError = _error("WeChatUnavailableError", 503, "WECHAT_UNAVAILABLE", "微信服务暂时不可用，请稍后重试")
# Partners: WeChat Sports, consent, the bus company and the bank.
UnknownPartnerError = _error("UnknownPartnerError", 404, "UNKNOWN_PARTNER", "没有这个合作方")
InvalidPhoneCodeError = _error("InvalidPhoneCodeError", 400, "INVALID_PHONE_CODE", "手机号授权已失效，请重新授权")
NotMainlandPhoneError = _error("NotMainlandPhoneError", 400, "INVALID_PHONE_CODE",
                               "仅支持中国大陆（+86）手机号绑定合作方账户")
OtherAppPhoneError = _error("OtherAppPhoneError", 400, "INVALID_PHONE_CODE",
                            "该手机号授权不属于本小程序，请在本小程序内重新授权")
PartnerRejectedError = _error("PartnerRejectedError", 422, "PARTNER_REJECTED", "合作方未能绑定该账户")
PartnerAccountTakenError = _error("PartnerAccountTakenError", 409, "PARTNER_ACCOUNT_TAKEN",
                                  "该合作方账户已绑定其他用户")
NotBoundError = _error("NotBoundError", 409, "NOT_BOUND", "尚未授权该合作方")
BadSignatureError = _error("BadSignatureError", 401, "BAD_SIGNATURE", "签名无效")
ReplayedError = _error("ReplayedError", 401, "REPLAYED", "重复的请求")
SessionExpiredError = _error("SessionExpiredError", 401, "SESSION_EXPIRED", "登录状态已过期，请重新登录后再同步")
InvalidWeRunDataError = _error("InvalidWeRunDataError", 400, "INVALID_WERUN_DATA", "微信运动数据无效，请重新同步")
PartnerUnavailableError = _error("PartnerUnavailableError", 503, "PARTNER_UNAVAILABLE",
                                 "合作方服务暂时不可用，请稍后重试")
# The open protocol (shared/partners/open-protocol.md): linking by code, pushes only.
LinkByCodeError = _error("LinkByCodeError", 409, "LINK_BY_CODE", "该合作方须通过连接码在其小程序内授权")
PushOnlyError = _error("PushOnlyError", 409, "PUSH_ONLY", "该合作方会自动推送数据，无需手动同步")
NoOpenPartnerError = _error("NoOpenPartnerError", 409, "NOT_AN_OPEN_PARTNER", "该合作方通过手机号授权，不使用连接码")
LinkCodeNotFoundError = _error("LinkCodeNotFoundError", 404, "CODE_NOT_FOUND", "连接码不存在或已使用")
LinkCodeExpiredError = _error("LinkCodeExpiredError", 410, "CODE_EXPIRED", "连接码已过期，请在绿芽小程序内重新连接")
# Marketplace, merchant scanning and collection points.
OutOfStockError = _error("OutOfStockError", 409, "OUT_OF_STOCK", "该商品已兑完")
PerUserLimitReachedError = _error("PerUserLimitReachedError", 429, "PER_USER_LIMIT_REACHED",
                                  "该商品每人兑换数量已达上限")
NotCancellableError = _error("NotCancellableError", 409, "NOT_CANCELLABLE", "该兑换不能取消")
CodeNotFoundError = _error("CodeNotFoundError", 404, "CODE_NOT_FOUND", "兑换码不存在")
CodeAlreadyUsedError = _error("CodeAlreadyUsedError", 409, "CODE_ALREADY_USED", "该兑换码已被核销")
CodeCancelledError = _error("CodeCancelledError", 409, "CODE_CANCELLED", "该兑换码已被用户取消，不能核销")
CodeExpiredError = _error("CodeExpiredError", 410, "CODE_EXPIRED", "兑换码已过期")
NotYourMerchantError = _error("NotYourMerchantError", 403, "NOT_YOUR_MERCHANT", "该兑换码不属于本商户")
NotOperatorCreditableError = _error("NotOperatorCreditableError", 422, "NOT_OPERATOR_CREDITABLE",
                                    "该行为不能由回收点工作人员记录")
# Organizations.
InvalidInviteError = _error("InvalidInviteError", 403, "INVALID_INVITE", "邀请码不正确")
AlreadyMemberError = _error("AlreadyMemberError", 409, "ALREADY_MEMBER", "你已经是该组织的成员")
TooManyOrgsError = _error("TooManyOrgsError", 409, "TOO_MANY_ORGS", "最多只能加入 5 个组织")
# Privacy: content checks and deleted accounts (services/nicknames.py, services/erasure.py).
ContentRejectedError = _error("ContentRejectedError", 422, "CONTENT_REJECTED", "内容含有违规信息，请修改后重试")
AccountDeletedError = _error("AccountDeletedError", 401, "UNAUTHENTICATED", "该账号已注销，请重新登录")
# Review (docs/risk.md "Review"; domain/review.py, services/review.py, services/appeals.py).
AccountUnderReviewError = _error("AccountUnderReviewError", 403, "ACCOUNT_UNDER_REVIEW",
                                 "账户正在审核中，暂不能使用积分")
AppealOpenError = _error("AppealOpenError", 409, "APPEAL_OPEN", "你已有一份申诉在处理中")
NotUnderReviewError = _error("NotUnderReviewError", 409, "NOT_UNDER_REVIEW", "账户未在审核中，无需申诉")
# Evidence photos (services/uploads.py, services/checkins.py; contract risk.md rule 3).
EvidenceReusedError = _error("EvidenceReusedError", 409, "EVIDENCE_REUSED", "该照片已被使用过，请拍摄新的照片")
UploadNotFoundError = _error("UploadNotFoundError", 404, "UPLOAD_NOT_FOUND", "照片不存在或已失效，请重新上传")

# The transparency record (docs/transparency.md)
RootNotReadyError = _error("RootNotReadyError", 409, "ROOT_NOT_READY", "该记录所在日期尚未公示，请在 9 天后再查看")
