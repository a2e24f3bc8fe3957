// The pages under WeChat's component-testing tool (miniprogram-simulate) in Node: a DOM (jsdom), a fake `wx`
// at the boundary (wx.request answered by a table of routes, wx.login, storage, toasts, modals, scanCode, ...)
// and helpers to render a page, tap it and read what a person sees.
//
//   const page = await open('market');            // rendered, onLoad awaited
//   await tap(page, '.redeem');                   // bindtap, then every answer settled
//   assert.match(text(page), /兑换成功/);
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true, url: 'https://servicewechat.com/' });
globalThis.window = dom.window;
for (const name of ['document', 'Element', 'Node', 'Event', 'HTMLElement', 'CustomEvent', 'DocumentFragment',
  'getComputedStyle', 'requestAnimationFrame', 'cancelAnimationFrame', 'MutationObserver']) {
  if (!(name in globalThis) || name === 'Event' || name === 'CustomEvent') globalThis[name] = dom.window[name];
}
const simulate = require('miniprogram-simulate');

const { reset: resetApi } = await import('../utils/api.js');

/** Everything the fake wx saw: requests, toasts, modals, navigations, clipboard, ... */
export const seen = {};
/** The fake API: `routes['GET /v1/me'] = (request) => body | [status, body]`. */
export const routes = {};
const storage = new Map();
let pending = 0;

function answer(status, data) { return { statusCode: status, data, header: {} }; }

export const TOKEN_BODY = (n) => ({ token: `token-${n}`, expires_in: 7200, new_user: false,
  user: { id: 'u_TEST', nickname: '小绿', roles: ['user'], platform: { id: 'default', name: '绿芽' } } });

function defaults() {
  let logins = 0;
  return {
    'POST /v1/auth/login': () => TOKEN_BODY((logins += 1)),
    'GET /v1/platform': () => ({ id: 'default', name: '绿芽',
      branding: { name: '绿芽', slogan: '每一克减排都算数', primary_color: '#2E7D32', logo_url: null },
      behaviors: ['clean_plate', 'no_cutlery', 'green_parking', 'walk_steps'], partners: ['transit', 'bank', 'bikeshare'],
      subscribe_templates: { coupon_expiring: 'tpl-coupon', redemption_used: 'tpl-used' } }),
  };
}

function respond(options) {
  const url = new URL(options.url);
  const request = { method: options.method || 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams),
    data: options.data, header: options.header || {} };
  seen.requests.push(request);
  const key = `${request.method} ${request.path}`;
  const handler = routes[key];
  pending += 1;
  setTimeout(async () => {
    try {
      if (!handler) {
        seen.unmatched.push(key);
        options.success(answer(404, { error: { code: 'NOT_FOUND', message: '接口不存在' } }));
        return;
      }
      let result;
      try {
        result = await handler(request);
      } catch (failure) {
        options.fail({ errMsg: `request:fail ${failure.message}` });
        return;
      }
      const [status, body] = Array.isArray(result) && typeof result[0] === 'number' ? result : [200, result];
      options.success(answer(status, body));
    } finally {
      pending -= 1;
    }
  }, 0);
}

function callback(name, produce) {
  return (options = {}) => {
    seen[name] = seen[name] || [];
    seen[name].push(options);
    pending += 1;
    setTimeout(() => {
      try {
        const outcome = produce(options);
        if (outcome && outcome.fail) { if (options.fail) options.fail(outcome.fail); } else if (options.success) options.success(outcome);
        if (options.complete) options.complete();
      } finally {
        pending -= 1;
      }
    }, 0);
  };
}

/** The boundary's answers a test may replace: `fake.scanCode = () => ({result: 'GS:R:...'})`, `{fail}` to fail. */
export const fake = {};

function install() {
  Object.assign(fake, {
    login: () => ({ code: 'wx:test-user' }),
    showModal: () => ({ confirm: true, cancel: false }),
    chooseMedia: () => ({ tempFiles: [{ tempFilePath: 'wxfile://tmp/plate.jpg', size: 120000 }] }),
    uploadFile: () => ({ statusCode: 204, data: '' }),
    chooseAddress: () => ({ userName: '张三', telNumber: '13800138000', provinceName: '四川省', cityName: '泸州市',
      countyName: '江阳区', detailInfo: '酒城大道 1 号' }),
    scanCode: () => ({ result: 'GS:R:ABCD1234EFGH5678' }),
    requestSubscribeMessage: (options) => Object.fromEntries(options.tmplIds.map((id) => [id, 'accept'])),
    getWeRunData: () => ({ encryptedData: 'ENCRYPTED', iv: 'IV' }),
    setClipboardData: () => ({}),
    openSetting: () => ({}),
  });
  const wx = globalThis.wx;
  wx.request = respond;
  for (const name of Object.keys(fake)) wx[name] = callback(name, (options) => fake[name](options));
  for (const name of ['showToast', 'navigateTo', 'switchTab', 'reLaunch', 'setNavigationBarColor']) {
    wx[name] = (options = {}) => { (seen[name] = seen[name] || []).push(options); if (options.success) setTimeout(() => options.success({}), 0); };
  }
  wx.stopPullDownRefresh = () => { seen.stopPullDownRefresh = (seen.stopPullDownRefresh || 0) + 1; };
  wx.getStorageSync = (key) => (storage.has(key) ? storage.get(key) : '');
  wx.setStorageSync = (key, value) => { storage.set(key, value); };
  wx.removeStorageSync = (key) => { storage.delete(key); };
  wx.getWindowInfo = () => ({ pixelRatio: 2 });
}

/**
 * wx.request over Node's HTTP, for the end-to-end run against the real local API (`make run`'s server): what
 * the mini program sends, as WeChat sends it (JSON body, the answer's text parsed by the client).
 */
function httpRequest(options) {
  const url = new URL(options.url);
  const body = options.data === undefined ? undefined : JSON.stringify(options.data);
  seen.requests.push({ method: options.method || 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams),
    data: options.data, header: options.header || {} });
  pending += 1;
  const sent = http.request(url, { method: options.method || 'GET', timeout: options.timeout || 10000,
    headers: { ...(options.header || {}), ...(body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) }) } },
  (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => {
      pending -= 1;
      const data = Buffer.concat(chunks).toString('utf8');
      let parsed = null;
      try { parsed = data ? JSON.parse(data) : null; } catch { parsed = data; }
      seen.exchanges.push({ method: options.method || 'GET', url: options.url, status: response.statusCode, body: parsed });
      options.success({ statusCode: response.statusCode, data, header: response.headers });
    });
  });
  sent.on('timeout', () => sent.destroy(new Error('timeout')));
  sent.on('error', (error) => { pending -= 1; options.fail({ errMsg: `request:fail ${error.message}` }); });
  if (body !== undefined) sent.write(body);
  sent.end();
}

/** Send the pages' requests to a real server at `baseUrl` instead of the table of routes. */
export function useHttp(baseUrl) {
  globalThis.wx.request = httpRequest;
  resetApi({ baseUrl });
}

/** Log in as another WeChat user on the next call (the fake WeChat's `wx:<openid>:<nonce>`: a code serves once). */
export function actAs(openid) {
  let nonce = 0;
  fake.login = () => ({ code: `wx:${openid}:${process.pid}-${Date.now()}-${(nonce += 1)}` });
  storage.delete('greensprout.session');
}

/** A fresh boundary for a test: no session, default routes and answers, nothing seen. */
export function reset() {
  for (const key of Object.keys(seen)) delete seen[key];
  Object.assign(seen, { requests: [], unmatched: [], exchanges: [] });
  for (const key of Object.keys(routes)) delete routes[key];
  Object.assign(routes, defaults());
  storage.clear();
  install();
  resetApi({ baseUrl: 'https://api.test', platform: '', devOpenid: '' });
}

/** Every timer and answer of the fakes done (the pages' awaits have all resumed). */
export async function settle() {
  for (let idle = 0; idle < 3;) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    idle = pending === 0 ? idle + 1 : 0;
  }
}

// Each file is an ES module, evaluated once per process: a component's Component() runs once, so it is
// registered once here and every page is given its id (miniprogram-simulate's `usingComponents` override).
const components = {
  state: simulate.load(path.join(ROOT, 'components', 'state', 'index'), { compiler: 'simulate', rootPath: ROOT }),
  'qr-code': simulate.load(path.join(ROOT, 'components', 'qr-code', 'index'), { compiler: 'simulate', rootPath: ROOT }),
};
const loaded = {};

/**
 * Render `pages/<name>/index` (loaded once per process: the page is an ES module) and run its onLoad; with
 * `{ loading: true }` return at once, while its first answers are still awaited (`page.loaded` settles them).
 */
export async function open(name, query = {}, { loading = false } = {}) {
  if (!loaded[name]) {
    loaded[name] = simulate.load(path.join(ROOT, 'pages', name, 'index'),
      { compiler: 'simulate', rootPath: ROOT, usingComponents: { ...components } });
  }
  const page = simulate.render(loaded[name]);
  page.attach(document.createElement('parent-wrapper'));
  page.loaded = Promise.resolve(page.instance.onLoad(query)).then(settle);
  if (!loading) await page.loaded;
  return page;
}

/** What a person sees: the page's text, spaces folded. */
export function text(node) {
  return (node.dom || node).textContent.replace(/\s+/g, ' ').trim();
}

export function all(page, selector) {
  return page.querySelectorAll(selector);
}

/** Tap the `index`th element matching `selector` (its bindtap), then wait for what it started. */
export async function tap(page, selector, index = 0) {
  const found = page.querySelectorAll(selector)[index];
  if (!found) throw new Error(`nothing matches ${selector} (${index}) in: ${text(page)}`);
  found.dispatchEvent('tap');
  await settle();
}

/** Another event (input, getphonenumber, change) with its `detail`. */
export async function trigger(page, selector, event, detail, index = 0) {
  const found = page.querySelectorAll(selector)[index];
  if (!found) throw new Error(`nothing matches ${selector} (${index}) in: ${text(page)}`);
  found.dispatchEvent(event, { detail });
  await settle();
}

/** Pull down to refresh. */
export async function pull(page) {
  await page.instance.onPullDownRefresh();
  await settle();
}

/** The API requests a test saw, as "METHOD /path". */
export function requested() {
  return seen.requests.map((r) => `${r.method} ${r.path}`);
}

/** The error body of the contract. */
export function failure(status, code, message) {
  return [status, { error: { code, ...(message === undefined ? {} : { message }) } }];
}

reset();
