// The client against a fake `wx` whose wx.request is answered by a scripted server.
// Run: node --test miniprogram_api/test/
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, createClient, ErrorCode, ROUTES, SESSION_KEY } from '../client.js';
import { isApiError } from '../errors.js';

const BASE = 'https://api.test';
const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** A fake `wx`: storage in a Map, wx.login codes code-1, code-2 ..., WeRun data enc-1/iv-1 ...,
 *  and wx.request answered by `route(request)` -> {status, body} or the string 'network-failure'. */
function fakeWx(route) {
  const wx = {
    calls: [], // every wx API call in order: 'login', 'getWeRunData', 'request POST /v1/...'
    requests: [],
    storage: new Map(),
    logins: 0,
    weRunFetches: 0,
    weRunFails: null,
    getStorageSync: (key) => (wx.storage.has(key) ? wx.storage.get(key) : ''),
    setStorageSync: (key, value) => wx.storage.set(key, value),
    removeStorageSync: (key) => wx.storage.delete(key),
    login({ success }) {
      wx.logins += 1;
      wx.calls.push('login');
      setTimeout(() => success({ code: `code-${wx.logins}`, errMsg: 'login:ok' }), 0);
    },
    getWeRunData({ success, fail }) {
      wx.calls.push('getWeRunData');
      if (wx.weRunFails) return setTimeout(() => fail({ errMsg: wx.weRunFails }), 0);
      wx.weRunFetches += 1;
      const n = wx.weRunFetches;
      return setTimeout(() => success({ encryptedData: `enc-${n}`, iv: `iv-${n}`, errMsg: 'getWeRunData:ok' }), 0);
    },
    request(options) {
      const url = new URL(options.url);
      const request = { method: options.method, path: url.pathname, query: Object.fromEntries(url.searchParams),
        url: options.url, header: options.header, data: options.data, timeout: options.timeout };
      wx.requests.push(request);
      wx.calls.push(`request ${options.method} ${url.pathname}`);
      setTimeout(() => {
        const answer = route(request, wx);
        if (answer === 'network-failure') return options.fail({ errMsg: 'request:fail timeout' });
        return options.success({ statusCode: answer.status, data: answer.body, header: {} });
      }, 0);
    },
  };
  return wx;
}

const token = (n) => `token-${n}`;

/** A server that logs in (code-N -> token-N) and hands everything else to `handle`. */
function server(handle) {
  return (request, wx) => {
    if (request.path === '/v1/auth/login') {
      const n = Number(String(request.data.code).split('-')[1]);
      return { status: 200, body: { token: token(n), expires_in: 7200, user: { id: 'u_1', nickname: '小绿', roles: ['user'] }, new_user: n === 1 } };
    }
    return handle(request, wx);
  };
}

const unauthenticated = { status: 401, body: { error: { code: 'UNAUTHENTICATED', message: '请先登录' } } };
const ok = (body) => ({ status: 200, body });
const bearer = (request) => request.header.Authorization;
const apiRequests = (wx) => wx.requests.filter((r) => r.path !== '/v1/auth/login');

test('the first call logs in with wx.login, stores the token and sends it as a bearer token', async () => {
  const wx = fakeWx(server(() => ok({ id: 'u_1', points: 5 })));
  const api = createClient({ baseUrl: `${BASE}/`, wx });
  assert.deepEqual(await api.me(), { id: 'u_1', points: 5 });
  assert.deepEqual(wx.calls, ['login', 'request POST /v1/auth/login', 'request GET /v1/me']);
  assert.deepEqual(wx.requests[0].data, { code: 'code-1' });
  assert.equal(wx.requests[0].url, `${BASE}/v1/auth/login`);
  assert.equal(bearer(wx.requests[1]), 'Bearer token-1');
  assert.equal(wx.requests[1].header['Content-Type'], 'application/json');
  assert.equal(wx.storage.get(SESSION_KEY).token, 'token-1');
});

test('a stored token is reused by the next client, without logging in', async () => {
  const wx = fakeWx(server(() => ok({})));
  await createClient({ baseUrl: BASE, wx }).me();
  await createClient({ baseUrl: BASE, wx }).me();
  assert.equal(wx.logins, 1);
  assert.deepEqual(apiRequests(wx).map(bearer), ['Bearer token-1', 'Bearer token-1']);
});

test('a token about to expire is renewed before the call', async () => {
  let clock = 1_000_000;
  const wx = fakeWx(server(() => ok({})));
  const api = createClient({ baseUrl: BASE, wx, now: () => clock });
  await api.me();
  clock += 7200 * 1000 - 30 * 1000; // 30 s left
  await api.me();
  assert.equal(wx.logins, 2);
  assert.deepEqual(apiRequests(wx).map(bearer), ['Bearer token-1', 'Bearer token-2']);
});

test('a 401 logs in again once and repeats the call', async () => {
  const wx = fakeWx(server((request) => (bearer(request) === 'Bearer token-1' ? unauthenticated : ok({ id: 'u_1' }))));
  const api = createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await api.me(), { id: 'u_1' });
  assert.equal(wx.logins, 2);
  assert.deepEqual(apiRequests(wx).map(bearer), ['Bearer token-1', 'Bearer token-2']);
  assert.equal(wx.storage.get(SESSION_KEY).token, 'token-2');
});

test('a second 401 is not retried again: it rejects with UNAUTHENTICATED', async () => {
  const wx = fakeWx(server(() => unauthenticated));
  const api = createClient({ baseUrl: BASE, wx });
  await assert.rejects(api.me(), (error) => error instanceof ApiError && error.code === 'UNAUTHENTICATED' && error.status === 401);
  assert.equal(wx.logins, 2);
  assert.equal(apiRequests(wx).length, 2);
});

test('calls that get 401 together share one new login', async () => {
  const wx = fakeWx(server((request) => (bearer(request) === 'Bearer token-1' ? unauthenticated : ok({}))));
  const api = createClient({ baseUrl: BASE, wx });
  await api.me();
  assert.equal(wx.logins, 2);
  await Promise.all([api.me(), api.ledger(), api.summary('month'), api.partners()]);
  assert.equal(wx.logins, 2, 'the valid token-2 is used by all of them');
  wx.storage.set(SESSION_KEY, { ...wx.storage.get(SESSION_KEY), token: 'token-1' }); // revoked by the server
  await Promise.all([api.me(), api.ledger(), api.summary('month')]);
  assert.equal(wx.logins, 3, 'three 401s, one login');
});

test('a check-in sends a fresh request_id and reuses it when it repeats the call after a 401', async () => {
  const wx = fakeWx(server((request) => (bearer(request) === 'Bearer token-1' ? unauthenticated
    : { status: 201, body: { entry: { points: 5, carbon_g: 144 }, points: 5, carbon_g: 144 } })));
  const api = createClient({ baseUrl: BASE, wx });
  const answer = await api.checkin('clean_plate');
  assert.equal(answer.entry.carbon_g, 144);
  const [first, second] = apiRequests(wx);
  assert.equal(first.path, '/v1/checkins');
  assert.match(first.data.request_id, REQUEST_ID);
  assert.equal(first.data.behavior, 'clean_plate');
  assert.equal(second.data.request_id, first.data.request_id);
  await api.checkin('clean_plate');
  assert.notEqual(apiRequests(wx)[2].data.request_id, first.data.request_id, 'each new check-in has its own');
});

test('uploadPhoto asks for a presigned POST, sends the file with its fields by wx.uploadFile, gives the upload_id', async () => {
  const wx = fakeWx(server((request) => ({ status: 201, body: {
    upload_id: 'UP1', url: 'https://bucket.test/', fields: { key: 'evidence/default/u_1/UP1', policy: 'p' },
    expires_at: '2026-12-02T16:40:00+08:00' } })));
  const sent = [];
  wx.uploadFile = (options) => { sent.push(options); setTimeout(() => options.success({ statusCode: 204, data: '' }), 0); };
  const api = createClient({ baseUrl: BASE, wx });
  const uploadId = await api.uploadPhoto({ filePath: 'wxfile://tmp/1.jpg', contentType: 'image/jpeg', size: 1000 });
  assert.equal(uploadId, 'UP1');
  const [asked] = apiRequests(wx);
  assert.deepEqual([asked.method, asked.path, asked.data],
    ['POST', '/v1/uploads', { purpose: 'checkin_evidence', content_type: 'image/jpeg', size: 1000 }]);
  assert.deepEqual([sent[0].url, sent[0].name, sent[0].filePath, sent[0].formData],
    ['https://bucket.test/', 'file', 'wxfile://tmp/1.jpg', { key: 'evidence/default/u_1/UP1', policy: 'p' }]);
});

test('subscribe asks wx.requestSubscribeMessage for the topics and posts only the accepted ones', async () => {
  const wx = fakeWx(server((request) => ({ status: 200, body: { allowances: { coupon_expiring: 1, weekly_report: 0 } } })));
  const asked = [];
  wx.requestSubscribeMessage = (options) => {
    asked.push(options.tmplIds);
    setTimeout(() => options.success({ errMsg: 'requestSubscribeMessage:ok', 'TPL-C': 'accept', 'TPL-W': 'reject' }), 0);
  };
  const api = createClient({ baseUrl: BASE, wx,
    subscribeTemplates: { coupon_expiring: 'TPL-C', weekly_report: 'TPL-W' } });
  const answer = await api.subscribe(['coupon_expiring', 'weekly_report']);
  assert.deepEqual(asked, [['TPL-C', 'TPL-W']]);
  const [posted] = apiRequests(wx);
  assert.deepEqual([posted.method, posted.path, posted.data.accepted],
    ['POST', '/v1/me/subscriptions', ['coupon_expiring']]);
  assert.match(posted.data.request_id, REQUEST_ID);
  assert.deepEqual(answer, { allowances: { coupon_expiring: 1, weekly_report: 0 } });
});

test('subscribe takes the templates GET /v1/platform gives (subscribe_templates) instead of the client\'s', async () => {
  const wx = fakeWx(server(() => ({ status: 200, body: { allowances: { redemption_used: 1 } } })));
  const asked = [];
  wx.requestSubscribeMessage = (options) => {
    asked.push(options.tmplIds);
    setTimeout(() => options.success({ errMsg: 'requestSubscribeMessage:ok', 'tpl-used': 'accept' }), 0);
  };
  const api = createClient({ baseUrl: BASE, wx });
  await api.subscribe(['redemption_used', 'weekly_report'], { redemption_used: 'tpl-used' });
  assert.deepEqual(asked, [['tpl-used']]);
  assert.deepEqual(apiRequests(wx)[0].data.accepted, ['redemption_used']);
});

test('an answer with a code and no message carries the contract\'s Chinese message of the code', async () => {
  const wx = fakeWx(server(() => ({ status: 429, body: { error: { code: 'DAILY_LIMIT_REACHED' } } })));
  const api = createClient({ baseUrl: BASE, wx });
  const error = await api.checkin('no_cutlery').catch((e) => e);
  assert.equal(error.code, ErrorCode.DAILY_LIMIT_REACHED);
  assert.match(error.message, /[\u4e00-\u9fff]/);
  assert.notEqual(error.message, 'DAILY_LIMIT_REACHED');
});

test('a photo the storage refuses rejects with WX_API_FAILED', async () => {
  const wx = fakeWx(server(() => ({ status: 201, body: { upload_id: 'UP1', url: 'https://bucket.test/', fields: {},
    expires_at: '2026-12-02T16:40:00+08:00' } })));
  wx.uploadFile = (options) => setTimeout(() => options.success({ statusCode: 400, data: '<Error/>' }), 0);
  const api = createClient({ baseUrl: BASE, wx });
  await assert.rejects(api.uploadPhoto({ filePath: 'f', contentType: 'image/jpeg', size: 6e6 }),
    (error) => isApiError(error, ErrorCode.WX_API_FAILED));
});

test('a write lost to the network is sent again once with the same request_id', async () => {
  let attempt = 0;
  const wx = fakeWx(server(() => {
    attempt += 1;
    return attempt === 1 ? 'network-failure' : { status: 201, body: { redemption: { status: 'issued' }, points: 0 } };
  }));
  const api = createClient({ baseUrl: BASE, wx });
  await api.redeem('g-coffee');
  const [first, second] = apiRequests(wx);
  assert.equal(first.path, '/v1/market/goods/g-coffee/redeem');
  assert.equal(second.data.request_id, first.data.request_id);
});

test('a write that still fails carries its request_id, and a retry with it sends the same one', async () => {
  const wx = fakeWx(server(() => 'network-failure'));
  const api = createClient({ baseUrl: BASE, wx });
  const error = await api.checkin('clean_plate').catch((e) => e);
  assert.equal(error.code, ErrorCode.NETWORK_ERROR);
  assert.equal(error.status, 0);
  assert.equal(error.retryable, true);
  assert.match(error.requestId, REQUEST_ID);
  await api.checkin('clean_plate', { requestId: error.requestId }).catch(() => {});
  assert.ok(apiRequests(wx).every((r) => r.data.request_id === error.requestId));
});

test('a write without a request_id is not repeated after a network failure', async () => {
  const wx = fakeWx(server(() => 'network-failure'));
  const api = createClient({ baseUrl: BASE, wx });
  await assert.rejects(api.bindPartner('transit', 'phone-code'), { code: 'NETWORK_ERROR' });
  assert.equal(apiRequests(wx).length, 1, 'a phone code is single use');
});

test('WeRun sync logs in before reading WeRun data, so the data is encrypted with the server\'s key', async () => {
  const wx = fakeWx(server(() => ok({ days: [], awarded: { points: 0, carbon_g: 0 } })));
  const api = createClient({ baseUrl: BASE, wx });
  await api.syncWeRun();
  assert.deepEqual(wx.calls, ['login', 'request POST /v1/auth/login', 'getWeRunData', 'request POST /v1/werun/sync']);
  assert.deepEqual(apiRequests(wx)[0].data, { encrypted_data: 'enc-1', iv: 'iv-1' });
});

test('SESSION_EXPIRED from WeRun sync: log in again, read WeRun data again, send the new data', async () => {
  const expired = { status: 401, body: { error: { code: 'SESSION_EXPIRED', message: '登录状态已过期，请重新登录后再同步' } } };
  const wx = fakeWx(server((request) => (request.data.encrypted_data === 'enc-1' ? expired
    : ok({ days: [{ date: '2026-11-23', steps: 12345, carbon_g: 202.458, points: 20 }], awarded: { points: 20, carbon_g: 202.458 } }))));
  const api = createClient({ baseUrl: BASE, wx });
  const answer = await api.syncWeRun();
  assert.deepEqual(answer.awarded, { points: 20, carbon_g: 202.458 });
  assert.deepEqual(wx.calls, ['login', 'request POST /v1/auth/login', 'getWeRunData', 'request POST /v1/werun/sync',
    'login', 'request POST /v1/auth/login', 'getWeRunData', 'request POST /v1/werun/sync']);
  const [first, second] = apiRequests(wx);
  assert.deepEqual(second.data, { encrypted_data: 'enc-2', iv: 'iv-2' });
  assert.equal(bearer(first), 'Bearer token-1');
  assert.equal(bearer(second), 'Bearer token-2');
});

test('SESSION_EXPIRED twice rejects after one new login', async () => {
  const wx = fakeWx(server(() => ({ status: 401, body: { error: { code: 'SESSION_EXPIRED', message: '登录状态已过期' } } })));
  const api = createClient({ baseUrl: BASE, wx });
  await assert.rejects(api.syncWeRun(), { code: 'SESSION_EXPIRED', status: 401 });
  assert.equal(wx.logins, 2);
  assert.equal(wx.weRunFetches, 2);
});

test('WeRun permission refused by the user is WX_AUTH_DENIED, and nothing is sent', async () => {
  const wx = fakeWx(server(() => ok({})));
  wx.weRunFails = 'getWeRunData:fail auth deny';
  const api = createClient({ baseUrl: BASE, wx });
  const error = await api.syncWeRun().catch((e) => e);
  assert.ok(isApiError(error, ErrorCode.WX_AUTH_DENIED));
  assert.equal(error.details.api, 'getWeRunData');
  assert.ok(/授权/.test(error.message));
  assert.equal(apiRequests(wx).length, 0);
});

test('error bodies become typed errors with code, message, status, details and the request_id', async () => {
  const wx = fakeWx(server(() => ({ status: 429, body: { error: { code: 'DAILY_LIMIT_REACHED', message: '今日该行为次数已达上限',
    details: { behavior: 'clean_plate', cap: 'daily_limit' } } } })));
  const api = createClient({ baseUrl: BASE, wx });
  const error = await api.checkin('clean_plate').catch((e) => e);
  assert.ok(error instanceof ApiError && error instanceof Error);
  assert.equal(error.name, 'ApiError');
  assert.equal(error.code, ErrorCode.DAILY_LIMIT_REACHED);
  assert.equal(error.message, '今日该行为次数已达上限');
  assert.equal(error.status, 429);
  assert.deepEqual(error.details, { behavior: 'clean_plate', cap: 'daily_limit' });
  assert.equal(error.requestId, apiRequests(wx)[0].data.request_id);
  assert.equal(error.retryable, false);
  assert.equal(apiRequests(wx).length, 1, 'a refusal is not retried');
});

test('an answer that is not the contract\'s error shape is BAD_RESPONSE with its status', async () => {
  const wx = fakeWx(server(() => ({ status: 502, body: '<html>Bad Gateway</html>' })));
  const api = createClient({ baseUrl: BASE, wx });
  const error = await api.me().catch((e) => e);
  assert.equal(error.code, ErrorCode.BAD_RESPONSE);
  assert.equal(error.status, 502);
  assert.ok(error.retryable);
});

test('a refused login is a typed error too', async () => {
  const wx = fakeWx((request) => (request.path === '/v1/auth/login'
    ? { status: 403, body: { error: { code: 'RISKY_USER', message: '该微信账号存在风险，暂不能登录' } } } : ok({})));
  const api = createClient({ baseUrl: BASE, wx });
  await assert.rejects(api.me(), { code: 'RISKY_USER', status: 403 });
  assert.equal(wx.storage.has(SESSION_KEY), false);
});

test('public routes do not log in', async () => {
  const wx = fakeWx(server(() => ok({ items: [], next_cursor: null })));
  const api = createClient({ baseUrl: BASE, wx });
  await api.behaviors();
  await api.goods({ category: 'food', limit: 10 });
  await api.stats();
  assert.equal(wx.logins, 0);
  assert.ok(wx.requests.every((r) => !bearer(r)));
  assert.deepEqual(wx.requests[1].query, { category: 'food', limit: '10' });
});

test('routes fill their path parameters (encoded) and query strings, and omit what is not given', async () => {
  const wx = fakeWx(server(() => ok({})));
  const api = createClient({ baseUrl: BASE, wx });
  await api.ledger({ limit: 20, cursor: 'a/b+c', kind: undefined });
  await api.leaderboard('org-o-school-1', { period: 'week' });
  await api.cancelRedemption('rd 1');
  await api.joinOrg('o-school-1', 'LZ1Z-2026');
  await api.operatorCredit({ memberCode: 'MC7K3M9QX2AB', behavior: 'old_clothes', quantity: 2.5 });
  const [ledger, board, cancel, join, credit] = apiRequests(wx);
  assert.equal(ledger.url, `${BASE}/v1/me/ledger?limit=20&cursor=a%2Fb%2Bc`);
  assert.equal(board.url, `${BASE}/v1/leaderboards/org-o-school-1?period=week`);
  assert.equal(cancel.url, `${BASE}/v1/me/redemptions/rd%201/cancel`);
  assert.equal(cancel.method, 'POST');
  assert.deepEqual(join.data, { invite_code: 'LZ1Z-2026' });
  assert.equal(credit.data.member_code, 'MC7K3M9QX2AB');
  assert.equal(credit.data.quantity, 2.5);
  assert.match(credit.data.request_id, REQUEST_ID);
});

test('a client of a platform sends X-Platform on every call and the platform on login', async () => {
  const wx = fakeWx(server(() => ok({ id: 'company-demo' })));
  const api = createClient({ baseUrl: BASE, wx, platform: 'company-demo' });
  assert.deepEqual(await api.platform(), { id: 'company-demo' });
  await api.me();
  const [platform, login, me] = wx.requests;
  assert.equal(platform.path, '/v1/platform');
  assert.equal(bearer(platform), undefined);
  assert.deepEqual(login.data, { code: 'code-1', platform: 'company-demo' });
  assert.ok([platform, login, me].every((r) => r.header['X-Platform'] === 'company-demo'));
});

test('a client without a platform sends neither the header nor the field (the default platform)', async () => {
  const wx = fakeWx(server(() => ok({})));
  const api = createClient({ baseUrl: BASE, wx });
  await api.me();
  assert.deepEqual(wx.requests[0].data, { code: 'code-1' });
  assert.ok(wx.requests.every((r) => !('X-Platform' in r.header)));
});

test('deleting the account and logging out forget the token', async () => {
  const wx = fakeWx(server(() => ok({ deleted: true })));
  const api = createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await api.deleteMe(), { deleted: true });
  assert.deepEqual(apiRequests(wx)[0].data, { confirm: 'DELETE' });
  assert.equal(apiRequests(wx)[0].method, 'DELETE');
  assert.equal(wx.storage.has(SESSION_KEY), false);
  await api.me();
  assert.equal(wx.storage.has(SESSION_KEY), true);
  await api.logout();
  assert.equal(await api.session(), null);
});

test('every route has its function', () => {
  const api = createClient({ baseUrl: BASE, wx: fakeWx(() => ok({})) });
  for (const name of Object.keys(ROUTES)) assert.equal(typeof api[name], 'function', name);
});

test('createClient needs a base URL and a wx object', () => {
  assert.throws(() => createClient({ wx: fakeWx(() => ok({})) }), TypeError);
  assert.throws(() => createClient({ baseUrl: BASE, wx: null }), TypeError);
});
