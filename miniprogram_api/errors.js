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
    return new ApiError({ code: error.code, message: error.message, status, details: error.details || null, requestId });
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
