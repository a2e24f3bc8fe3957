// Typed errors of the GreenSprout API client. Every failure a page sees is an ApiError:
// switch on `code` (stable English), show `message` (Chinese a user can read).
// Codes from the server are those of openapi.yaml; the client adds NETWORK_ERROR, BAD_RESPONSE,
// WX_AUTH_DENIED and WX_API_FAILED for what happens before or around the server.

export const ErrorCode = Object.freeze({
  // 400
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  INVALID_JSON: 'INVALID_JSON',
  INVALID_CURSOR: 'INVALID_CURSOR',
  INVALID_CODE: 'INVALID_CODE',
  INVALID_PHONE_CODE: 'INVALID_PHONE_CODE',
  INVALID_WERUN_DATA: 'INVALID_WERUN_DATA',
  // 401
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  REPLAYED: 'REPLAYED',
  // 403
  FORBIDDEN: 'FORBIDDEN',
  ACCOUNT_FROZEN: 'ACCOUNT_FROZEN',
  ACCOUNT_UNDER_REVIEW: 'ACCOUNT_UNDER_REVIEW',
  RISKY_USER: 'RISKY_USER',
  NOT_YOUR_MERCHANT: 'NOT_YOUR_MERCHANT',
  INVALID_INVITE: 'INVALID_INVITE',
  PLATFORM_MISMATCH: 'PLATFORM_MISMATCH',
  // 404, 405
  NOT_FOUND: 'NOT_FOUND',
  UNKNOWN_BEHAVIOR: 'UNKNOWN_BEHAVIOR',
  UNKNOWN_PARTNER: 'UNKNOWN_PARTNER',
  UNKNOWN_PLATFORM: 'UNKNOWN_PLATFORM',
  CODE_NOT_FOUND: 'CODE_NOT_FOUND',
  UPLOAD_NOT_FOUND: 'UPLOAD_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  // 409, 410
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  EVIDENCE_REUSED: 'EVIDENCE_REUSED',
  PARTNER_ACCOUNT_TAKEN: 'PARTNER_ACCOUNT_TAKEN',
  NOT_BOUND: 'NOT_BOUND',
  LINK_BY_CODE: 'LINK_BY_CODE',
  PUSH_ONLY: 'PUSH_ONLY',
  NOT_AN_OPEN_PARTNER: 'NOT_AN_OPEN_PARTNER',
  SOLD_OUT: 'SOLD_OUT',
  OUT_OF_STOCK: 'OUT_OF_STOCK',
  NOT_CANCELLABLE: 'NOT_CANCELLABLE',
  CODE_ALREADY_USED: 'CODE_ALREADY_USED',
  CODE_CANCELLED: 'CODE_CANCELLED',
  ALREADY_MEMBER: 'ALREADY_MEMBER',
  TOO_MANY_ORGS: 'TOO_MANY_ORGS',
  CODE_EXPIRED: 'CODE_EXPIRED',
  APPEAL_OPEN: 'APPEAL_OPEN',
  NOT_UNDER_REVIEW: 'NOT_UNDER_REVIEW',
  ROOT_NOT_READY: 'ROOT_NOT_READY',
  // 413, 415, 422
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  CONTENT_REJECTED: 'CONTENT_REJECTED',
  NOT_SELF_REPORTABLE: 'NOT_SELF_REPORTABLE',
  INSUFFICIENT_POINTS: 'INSUFFICIENT_POINTS',
  PARTNER_REJECTED: 'PARTNER_REJECTED',
  NOT_OPERATOR_CREDITABLE: 'NOT_OPERATOR_CREDITABLE',
  // 429
  DAILY_LIMIT_REACHED: 'DAILY_LIMIT_REACHED',
  PER_USER_LIMIT_REACHED: 'PER_USER_LIMIT_REACHED',
  RATE_LIMITED: 'RATE_LIMITED',
  // 5xx
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  WECHAT_UNAVAILABLE: 'WECHAT_UNAVAILABLE',
  PARTNER_UNAVAILABLE: 'PARTNER_UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  // client side (status 0)
  NETWORK_ERROR: 'NETWORK_ERROR',
  BAD_RESPONSE: 'BAD_RESPONSE',
  WX_AUTH_DENIED: 'WX_AUTH_DENIED',
  WX_API_FAILED: 'WX_API_FAILED',
});

// The contract's Chinese message of every server code (openapi.yaml `x-message`): what a page shows when an
// answer carries a code without a message (tests/contract/test_miniprogram_example.py keeps it in step).
export const MESSAGES = Object.freeze({
  BAD_REQUEST: '请求有误',
  VALIDATION_ERROR: '请求参数不正确',
  INVALID_JSON: '请求体不是有效的 JSON',
  INVALID_CURSOR: '分页游标无效',
  INVALID_CODE: '登录凭证无效或已过期，请重新登录',
  INVALID_WERUN_DATA: '微信运动数据无效，请重新同步',
  INVALID_PHONE_CODE: '手机号授权已失效，请重新授权',
  UNAUTHENTICATED: '请先登录',
  SESSION_EXPIRED: '登录状态已过期，请重新登录后再同步',
  BAD_SIGNATURE: '签名无效',
  REPLAYED: '重复的请求',
  FORBIDDEN: '无权执行此操作',
  ACCOUNT_FROZEN: '账户已被冻结，暂不能获得或使用积分',
  ACCOUNT_UNDER_REVIEW: '账户正在审核中，暂不能使用积分',
  APPEAL_OPEN: '你已有一份申诉在处理中',
  NOT_UNDER_REVIEW: '账户未在审核中，无需申诉',
  RISKY_USER: '该微信账号存在风险，暂不能登录',
  PLATFORM_MISMATCH: '登录凭证不属于该平台，请在本平台重新登录',
  NOT_YOUR_MERCHANT: '该兑换码不属于本商户',
  INVALID_INVITE: '邀请码不正确',
  NOT_FOUND: '对象不存在',
  UNKNOWN_PLATFORM: '没有这个平台',
  UNKNOWN_BEHAVIOR: '没有这种低碳行为',
  UNKNOWN_PARTNER: '没有这个合作方',
  CODE_NOT_FOUND: '兑换码不存在',
  METHOD_NOT_ALLOWED: '不支持该请求方法',
  UPLOAD_NOT_FOUND: '照片不存在或已失效，请重新上传',
  EVIDENCE_REUSED: '该照片已被使用过，请拍摄新的照片',
  ROOT_NOT_READY: '该记录所在日期尚未公示，请在 9 天后再查看',
  IDEMPOTENCY_CONFLICT: '该请求编号已用于另一个请求',
  PARTNER_ACCOUNT_TAKEN: '该合作方账户已绑定其他用户',
  LINK_BY_CODE: '该合作方须通过连接码在其小程序内授权',
  PUSH_ONLY: '该合作方会自动推送数据，无需手动同步',
  NOT_AN_OPEN_PARTNER: '该合作方通过手机号授权，不使用连接码',
  NOT_BOUND: '尚未授权该合作方',
  SOLD_OUT: '这种树苗已被认养完',
  OUT_OF_STOCK: '该商品已兑完',
  NOT_CANCELLABLE: '该兑换不能取消',
  CODE_ALREADY_USED: '该兑换码已被核销',
  ALREADY_MEMBER: '你已经是该组织的成员',
  TOO_MANY_ORGS: '最多只能加入 5 个组织',
  CODE_CANCELLED: '该兑换码已被用户取消，不能核销',
  CODE_EXPIRED: '兑换码已过期',
  REQUEST_TOO_LARGE: '请求体过大',
  UNSUPPORTED_MEDIA_TYPE: '请求体须为 application/json',
  CONTENT_REJECTED: '内容含有违规信息，请修改后重试',
  NOT_SELF_REPORTABLE: '该行为由合作方自动记录，不能手动打卡',
  INSUFFICIENT_POINTS: '积分不足',
  PARTNER_REJECTED: '合作方未能绑定该账户',
  NOT_OPERATOR_CREDITABLE: '该行为不能由回收点工作人员记录',
  DAILY_LIMIT_REACHED: '今日该行为次数已达上限',
  PER_USER_LIMIT_REACHED: '该商品每人兑换数量已达上限',
  RATE_LIMITED: '操作太频繁，请稍后再试',
  INTERNAL_ERROR: '服务器开小差了，请稍后再试',
  SERVICE_UNAVAILABLE: '服务繁忙，请稍后重试',
  WECHAT_UNAVAILABLE: '微信服务暂时不可用，请稍后重试',
  PARTNER_UNAVAILABLE: '合作方服务暂时不可用，请稍后重试',
  TIMEOUT: '服务响应超时，请稍后重试',
});

const CLIENT_MESSAGES = {
  NETWORK_ERROR: '网络不可用，请检查网络后重试',
  BAD_RESPONSE: '服务暂时不可用，请稍后重试',
  WX_AUTH_DENIED: '需要你的授权才能继续，可在设置中开启',
  WX_API_FAILED: '微信接口调用失败，请稍后重试',
};

const RETRYABLE = new Set(['NETWORK_ERROR', 'BAD_RESPONSE', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE',
  'WECHAT_UNAVAILABLE', 'PARTNER_UNAVAILABLE', 'TIMEOUT', 'RATE_LIMITED']);

export class ApiError extends Error {
  /**
   * @param {{code: string, message?: string, status?: number, details?: object|null, requestId?: string|null}} init
   */
  constructor({ code, message, status = 0, details = null, requestId = null }) {
    super(message || CLIENT_MESSAGES[code] || code);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
    // The request_id of a write that failed: pass it again (`{requestId}`) to retry the same write safely.
    this.requestId = requestId;
  }

  /** Worth offering a "retry" button: nothing was applied and trying later may work. */
  get retryable() {
    return RETRYABLE.has(this.code);
  }
}

/** The ApiError of a server answer (status >= 400), whatever its body. */
export function errorFromResponse(status, data, requestId = null) {
  const error = data && typeof data === 'object' ? data.error : null;
  if (error && typeof error.code === 'string') {
    return new ApiError({ code: error.code, message: error.message || MESSAGES[error.code], status,
      details: error.details || null, requestId });
  }
  return new ApiError({ code: ErrorCode.BAD_RESPONSE, status, details: { body: data }, requestId });
}

/** The ApiError of a failed wx.* call (`{errMsg}`): a refused permission is WX_AUTH_DENIED. */
export function errorFromWx(api, failure) {
  const errMsg = (failure && failure.errMsg) || `${api}:fail`;
  const denied = /auth den|auth deny|scope|permission/i.test(errMsg);
  return new ApiError({ code: denied ? ErrorCode.WX_AUTH_DENIED : ErrorCode.WX_API_FAILED, details: { api, errMsg } });
}

export function isApiError(value, code) {
  return value instanceof ApiError && (code === undefined || value.code === code);
}
