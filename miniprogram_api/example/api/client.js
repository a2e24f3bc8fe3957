// The GreenSprout API for the mini program: one function per route of openapi.yaml, each returning a
// Promise of the response body (or rejecting with an ApiError). Plain ES module, no dependencies.
//
//   import { createClient } from '../../miniprogram_api/client.js';
//   const api = createClient({ baseUrl: 'https://api.example.com' });
//   const uploadId = await api.uploadPhoto({ filePath, contentType: 'image/jpeg', size });  // a photo behaviour's
//   const { entry, points } = await api.checkin('clean_plate', { evidence: { upload_id: uploadId } });
//
// It logs in by itself (wx.login -> POST /v1/auth/login), keeps the token in storage, logs in again once
// when a call answers 401 and repeats the call; writes that award or spend carry a request_id that the
// repetition reuses, so nothing is applied twice.
import { ApiError, ErrorCode, errorFromResponse, errorFromWx } from './errors.js';

export { ApiError, ErrorCode, isApiError } from './errors.js';

export const SESSION_KEY = 'greensprout.session';
const RENEW_BEFORE_MS = 60 * 1000; // log in again when the token has less than this left

// Every route the client calls, by function name (the webhooks are for partners, not the mini program).
export const ROUTES = Object.freeze({
  health: ['GET', '/v1/health'],
  login: ['POST', '/v1/auth/login'],
  me: ['GET', '/v1/me'],
  updateMe: ['PATCH', '/v1/me'],
  deleteMe: ['DELETE', '/v1/me'],
  exportMe: ['GET', '/v1/me/export'],
  ledger: ['GET', '/v1/me/ledger'],
  summary: ['GET', '/v1/me/summary'],
  entryProof: ['GET', '/v1/me/ledger/{id}/proof'],
  appeal: ['POST', '/v1/me/appeals'],
  subscriptions: ['GET', '/v1/me/subscriptions'],
  acceptSubscriptions: ['POST', '/v1/me/subscriptions'],
  behaviors: ['GET', '/v1/behaviors'],
  checkin: ['POST', '/v1/checkins'],
  createUpload: ['POST', '/v1/uploads'],
  syncWeRun: ['POST', '/v1/werun/sync'],
  partners: ['GET', '/v1/partners'],
  bindPartner: ['PUT', '/v1/partners/{id}/consent'],
  unbindPartner: ['DELETE', '/v1/partners/{id}/consent'],
  syncPartner: ['POST', '/v1/partners/{id}/sync'],
  partnerLinkCode: ['POST', '/v1/partners/{id}/link-code'],
  trees: ['GET', '/v1/trees'],
  adoptTree: ['POST', '/v1/trees/{id}/adopt'],
  myTrees: ['GET', '/v1/me/trees'],
  goods: ['GET', '/v1/market/goods'],
  redeem: ['POST', '/v1/market/goods/{id}/redeem'],
  redemptions: ['GET', '/v1/me/redemptions'],
  redemption: ['GET', '/v1/me/redemptions/{id}'],
  cancelRedemption: ['POST', '/v1/me/redemptions/{id}/cancel'],
  verifyCode: ['POST', '/v1/merchant/verify'],
  merchantRedemptions: ['GET', '/v1/merchant/redemptions'],
  memberCode: ['GET', '/v1/me/member-code'],
  operatorCredit: ['POST', '/v1/operator/credit'],
  orgs: ['GET', '/v1/orgs'],
  org: ['GET', '/v1/orgs/{id}'],
  joinOrg: ['POST', '/v1/orgs/{id}/join'],
  leaderboard: ['GET', '/v1/leaderboards/{board}'],
  stats: ['GET', '/v1/stats'],
  platform: ['GET', '/v1/platform'],
  transparencyRoots: ['GET', '/v1/transparency/roots'],
});

const REQUEST_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'; // 64

/** A fresh request_id: `mp_<time>_<16 random characters>` (8..64 of [A-Za-z0-9_-], as the API asks). */
export function newRequestId() {
  const bytes = new Uint8Array(16);
  const crypto = globalThis.crypto;
  if (crypto && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  let random = '';
  for (const byte of bytes) random += REQUEST_ID_ALPHABET[byte & 63];
  return `mp_${Date.now().toString(36)}_${random}`;
}

/** The mini program's own storage, through the synchronous wx storage API. */
export function wxStorage(wx) {
  return {
    get: (key) => wx.getStorageSync(key) || null,
    set: (key, value) => wx.setStorageSync(key, value),
    remove: (key) => wx.removeStorageSync(key),
  };
}

function wxCall(wx, api, args = {}) {
  return new Promise((resolve, reject) => {
    wx[api]({ ...args, success: resolve, fail: (failure) => reject(errorFromWx(api, failure)) });
  });
}

function fillPath(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = params[name];
    if (value === undefined || value === null || value === '') throw new TypeError(`${template}: ${name} is required`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query = {}) {
  const parts = Object.entries(query)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function parseBody(data) {
  if (typeof data !== 'string') return data === undefined ? null : data;
  if (data === '') return null;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/**
 * @param {{baseUrl: string, platform?: string, wx?: object, storage?: {get, set, remove}, timeout?: number,
 *          now?: () => number, requestId?: () => string}} options
 *   `platform`: the id of the platform this mini program is (docs/platforms.md); sent as `X-Platform` on every
 *   call and as `platform` on login. Without it the server takes `default`.
 *   `wx` defaults to the mini program's global `wx` (inject a fake one in tests); `storage` to wx storage.
 *   `subscribeTemplates`: {topic: WeChat template id} of this mini program's subscribe messages (the same ids as
 *   the platform's catalog `subscribe_templates`), for subscribe(topics).
 */
export function createClient({ baseUrl, platform, wx = globalThis.wx, storage, timeout = 10000, now = Date.now,
  requestId = newRequestId, subscribeTemplates = {} } = {}) {
  if (!baseUrl) throw new TypeError('createClient: baseUrl is required');
  if (!wx) throw new TypeError('createClient: no wx object (pass {wx} outside the mini program)');
  const base = String(baseUrl).replace(/\/+$/, '');
  const store = storage || wxStorage(wx);
  let loggingIn = null;

  async function session() {
    const saved = await store.get(SESSION_KEY);
    return saved && typeof saved.token === 'string' ? saved : null;
  }

  function send(method, path, body, token) {
    const header = { 'Content-Type': 'application/json' };
    if (platform) header['X-Platform'] = platform;
    if (token) header.Authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      wx.request({
        url: base + path, method, header, timeout, dataType: 'json',
        ...(body === undefined ? {} : { data: body }),
        success: (res) => resolve({ status: res.statusCode, data: parseBody(res.data) }),
        fail: (failure) => reject(new ApiError({ code: ErrorCode.NETWORK_ERROR,
          details: { errMsg: failure && failure.errMsg } })),
      });
    });
  }

  /** wx.login, then POST /v1/auth/login; one at a time however many calls need it. */
  function login() {
    if (!loggingIn) {
      loggingIn = (async () => {
        const { code } = await wxCall(wx, 'login');
        const { status, data } = await send('POST', ROUTES.login[1], platform ? { code, platform } : { code });
        if (status >= 400) throw errorFromResponse(status, data);
        await store.set(SESSION_KEY, { token: data.token, expiresAt: now() + data.expires_in * 1000, user: data.user });
        return data;
      })().finally(() => { loggingIn = null; });
    }
    return loggingIn;
  }

  async function validToken() {
    const saved = await session();
    if (saved && saved.expiresAt - RENEW_BEFORE_MS > now()) return saved.token;
    return (await login()).token;
  }

  /** A token other than `stale`: another call's fresh login if there was one, else a new login. */
  async function renewedToken(stale) {
    if (loggingIn) return (await loggingIn).token;
    const saved = await session();
    if (saved && saved.token !== stale && saved.expiresAt - RENEW_BEFORE_MS > now()) return saved.token;
    return (await login()).token;
  }

  /**
   * One call. `body` may be a function making the body (run again after a new login: WeRun data is
   * encrypted with the session key of the login it follows). Retries: once after a 401 with a new
   * login; once after a network failure for reads and for writes that carry a request_id.
   */
  async function call(name, { params, query, body, auth = true, id = null } = {}) {
    const [method, template] = ROUTES[name];
    const path = fillPath(template, params) + queryString(query);
    const retryNetwork = method === 'GET' || id !== null;
    let token = auth ? await validToken() : null;
    let payload = typeof body === 'function' ? await body() : body;
    let renewed = false;
    let resent = false;
    for (;;) {
      let answer;
      try {
        answer = await send(method, path, payload, token);
      } catch (error) {
        if (retryNetwork && !resent) { resent = true; continue; }
        error.requestId = id;
        throw error;
      }
      const { status, data } = answer;
      if (status < 400) return data;
      const error = errorFromResponse(status, data, id);
      const relogin = error.code === ErrorCode.UNAUTHENTICATED || error.code === ErrorCode.SESSION_EXPIRED;
      if (auth && status === 401 && relogin && !renewed) {
        renewed = true;
        token = await renewedToken(token);
        if (typeof body === 'function') payload = await body();
        continue;
      }
      throw error;
    }
  }

  function write(name, fields, { requestId: given, ...rest } = {}) {
    const id = given || requestId();
    return call(name, { ...rest, id, body: { request_id: id, ...fields } });
  }

  async function weRunData() {
    const { encryptedData, iv } = await wxCall(wx, 'getWeRunData');
    return { encrypted_data: encryptedData, iv };
  }

  // wx.requestSubscribeMessage for the topics' templates (one call, at most 3 templates, from a tap), then
  // POST /v1/me/subscriptions with the topics the user accepted: each gains one allowance (one message).
  // `templates`: {topic: template id}, by default the client's subscribeTemplates; GET /v1/platform's
  // `subscribe_templates` are the platform's.
  async function subscribe(topics, templates = subscribeTemplates) {
    const wanted = [...new Set(topics)].filter((topic) => templates[topic]);
    if (wanted.length === 0) throw new TypeError('subscribe: no template id for these topics (subscribeTemplates)');
    const answer = await wxCall(wx, 'requestSubscribeMessage', { tmplIds: wanted.map((t) => templates[t]) });
    const accepted = wanted.filter((topic) => answer[templates[topic]] === 'accept');
    return write('acceptSubscriptions', { accepted });
  }

  async function forget() {
    await store.remove(SESSION_KEY);
  }

  return {
    // session
    login,
    logout: forget,
    session,
    // anyone
    health: () => call('health', { auth: false }),
    behaviors: () => call('behaviors', { auth: false }),
    trees: () => call('trees', { auth: false }),
    goods: ({ category, kind, limit, cursor } = {}) => call('goods', { auth: false, query: { category, kind, limit, cursor } }),
    orgs: ({ type } = {}) => call('orgs', { auth: false, query: { type } }),
    org: (orgId) => call('org', { auth: false, params: { id: orgId } }),
    stats: () => call('stats', { auth: false }),
    platform: () => call('platform', { auth: false }),
    // The public daily roots of the ledger (docs/transparency.md): `from`..`to`, YYYY-MM-DD, at most 31 days.
    transparencyRoots: (from, to) => call('transparencyRoots', { auth: false, query: { from, to } }),
    // me
    me: () => call('me'),
    updateMe: (changes) => call('updateMe', { body: changes }),
    exportMe: () => call('exportMe'),
    deleteMe: async () => {
      const answer = await call('deleteMe', { body: { confirm: 'DELETE' } });
      await forget();
      return answer;
    },
    ledger: ({ limit, cursor, kind } = {}) => call('ledger', { query: { limit, cursor, kind } }),
    summary: (period) => call('summary', { query: { period } }),
    // The inclusion proof of one of my entries in its day's public root (ROOT_NOT_READY until 9 days after).
    entryProof: (entryId) => call('entryProof', { params: { id: entryId } }),
    // An account under review (me().review.status) asks for its review to be looked at again.
    appeal: (text) => call('appeal', { body: { text } }),
    // WeChat subscribe messages (docs/nudges.md): the allowances left and the last messages sent; subscribe asks
    // the user (wx.requestSubscribeMessage) and records what was accepted.
    subscriptions: () => call('subscriptions'),
    subscribe,
    acceptSubscriptions: (accepted, { requestId: given } = {}) =>
      write('acceptSubscriptions', { accepted }, { requestId: given }),
    // earning
    checkin: (behavior, { quantity, evidence, requestId: given } = {}) =>
      write('checkin', { behavior, quantity, evidence }, { requestId: given }),
    // A photo for a behaviour whose evidence is `photo`: a presigned POST (JPEG or PNG, at most 5 MiB) ...
    createUpload: ({ contentType, size }) =>
      call('createUpload', { body: { purpose: 'checkin_evidence', content_type: contentType, size } }),
    // ... sent by wx.uploadFile with its fields; resolves to the upload_id for checkin(code, { evidence }).
    uploadPhoto: async ({ filePath, contentType, size }) => {
      const upload = await call('createUpload', { body: { purpose: 'checkin_evidence', content_type: contentType, size } });
      const sent = await wxCall(wx, 'uploadFile', { url: upload.url, filePath, name: 'file', formData: upload.fields });
      if (sent.statusCode >= 300) throw errorFromWx('uploadFile', { errMsg: `uploadFile:fail status ${sent.statusCode}` });
      return upload.upload_id;
    },
    syncWeRun: () => call('syncWeRun', { body: weRunData }),
    partners: () => call('partners'),
    bindPartner: (partnerId, phoneCode) => call('bindPartner', { params: { id: partnerId }, body: { phone_code: phoneCode } }),
    unbindPartner: (partnerId) => call('unbindPartner', { params: { id: partnerId } }),
    syncPartner: (partnerId) => call('syncPartner', { params: { id: partnerId } }),
    // An open-protocol partner: a code to hand to its mini program (wx.navigateToMiniProgram's extraData).
    partnerLinkCode: (partnerId) => call('partnerLinkCode', { params: { id: partnerId } }),
    // trees
    adoptTree: (treeId, { requestId: given } = {}) => write('adoptTree', {}, { requestId: given, params: { id: treeId } }),
    myTrees: ({ limit, cursor } = {}) => call('myTrees', { query: { limit, cursor } }),
    // market
    redeem: (goodsId, { address, requestId: given } = {}) =>
      write('redeem', { address }, { requestId: given, params: { id: goodsId } }),
    redemptions: ({ limit, cursor } = {}) => call('redemptions', { query: { limit, cursor } }),
    redemption: (redemptionId) => call('redemption', { params: { id: redemptionId } }),
    cancelRedemption: (redemptionId) => call('cancelRedemption', { params: { id: redemptionId } }),
    // merchant staff and collection points
    verifyCode: (code) => call('verifyCode', { body: { code } }),
    merchantRedemptions: ({ date, limit, cursor } = {}) => call('merchantRedemptions', { query: { date, limit, cursor } }),
    memberCode: () => call('memberCode'),
    operatorCredit: ({ memberCode, behavior, quantity, requestId: given }) =>
      write('operatorCredit', { member_code: memberCode, behavior, quantity }, { requestId: given }),
    // organizations
    joinOrg: (orgId, inviteCode) => call('joinOrg', { params: { id: orgId }, body: { invite_code: inviteCode } }),
    leaderboard: (board, { period } = {}) => call('leaderboard', { params: { board }, query: { period } }),
  };
}
