import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { failure, open, pull, reset, routes, seen, tap, text } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

beforeEach(() => {
  reset();
  routes['GET /v1/me'] = () => make.me();
  routes['GET /v1/me/summary'] = () => make.summary();
  routes['GET /v1/stats'] = () => make.stats();
});

test('home shows my carbon on this platform and as a person, my points, the month and the platform', async () => {
  const page = await open('home');
  const shown = text(page);
  assert.match(shown, /绿芽/);
  assert.match(shown, /每一克减排都算数/);
  assert.equal(text(page.querySelector('.carbon')), '2.45 千克');
  assert.match(text(page.querySelector('.person')), /3\.12 千克/);
  assert.equal(text(page.querySelector('.points')), '135');
  assert.equal(text(page.querySelector('.tree-days')), '17 天');
  assert.equal(text(page.querySelector('.car-km')), '3.6 公里');
  assert.equal(text(page.querySelector('.users')), '1024');
  assert.equal(text(page.querySelector('.platform-carbon')), '1234.57 千克');
  assert.deepEqual(seen.unmatched, []);
});

test('a 401 on the first call logs in again once and the page never shows it', async () => {
  let refused = false;
  routes['GET /v1/me'] = (request) => {
    if (!refused) { refused = true; return failure(401, 'UNAUTHENTICATED', '请先登录'); }
    assert.equal(request.header.Authorization, 'Bearer token-2');
    return make.me();
  };
  const page = await open('home');
  assert.equal(text(page.querySelector('.points')), '135');
  assert.equal(seen.login.length, 2);
  assert.doesNotMatch(text(page), /请先登录/);
});

test('an account under review sees the way to appeal', async () => {
  routes['GET /v1/me'] = () => make.me({ review: { status: 'under_review', since: '2026-12-01T00:00:00+08:00',
    rules: ['steps_outlier'], points_held: 20, carbon_held_g: 300 } });
  const page = await open('home');
  assert.match(text(page.querySelector('.review')), /账户正在审核中/);
  await tap(page, '.review');
  assert.equal(seen.switchTab[0].url, '/pages/me/index');
});

test('a failure shows its Chinese message, and pull-to-refresh loads again and stops the spinner', async () => {
  routes['GET /v1/stats'] = () => failure(503, 'SERVICE_UNAVAILABLE', '服务繁忙，请稍后重试');
  const page = await open('home');
  assert.match(text(page), /服务繁忙，请稍后重试/);
  assert.equal(seen.showToast.at(-1).title, '服务繁忙，请稍后重试');
  routes['GET /v1/stats'] = () => make.stats();
  await pull(page);
  assert.doesNotMatch(text(page), /服务繁忙/);
  assert.equal(text(page.querySelector('.users')), '1024');
  assert.equal(seen.stopPullDownRefresh, 1);
});

test('with config.devOpenid (make run\'s fake WeChat) the login sends the fake\'s code for that openid', async () => {
  const { reset: resetApi } = await import('../utils/api.js');
  resetApi({ devOpenid: 'o-demo' });
  let code;
  routes['POST /v1/auth/login'] = (request) => { code = request.data.code; return { token: 't', expires_in: 7200, new_user: false,
    user: { id: 'u_TEST', nickname: '小绿', roles: ['user'], platform: { id: 'default', name: '绿芽' } } }; };
  await open('home');
  assert.match(code, /^wx:o-demo:[a-z0-9]+-\d+$/);
  assert.equal(seen.login, undefined); // the real wx.login is not asked
});
