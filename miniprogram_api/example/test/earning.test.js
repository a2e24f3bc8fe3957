// WeChat Sports, partners and the ledger.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { all, fake, failure, open, reset, routes, seen, tap, text, trigger } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

beforeEach(() => reset());

test('WeRun: sync sends the encrypted data and shows the days and what they earned', async () => {
  routes['POST /v1/werun/sync'] = (request) => {
    assert.deepEqual({ ...request.data }, { encrypted_data: 'ENCRYPTED', iv: 'IV' });
    return { days: [{ date: '2026-12-02', steps: 8000, carbon_g: 480, points: 16 }, { date: '2026-12-03', steps: 3000, carbon_g: 180, points: 6 }],
      awarded: { points: 22, carbon_g: 660 } };
  };
  const page = await open('werun');
  await tap(page, '.sync');
  assert.equal(text(page.querySelector('.awarded')), '本次获得 22 积分，减排 660 克');
  assert.deepEqual(all(page, '.day').map(text), ['2026-12-033000 步6 积分', '2026-12-028000 步16 积分']); // newest first
});

test('WeRun: a refused permission says so and offers the settings', async () => {
  fake.getWeRunData = () => ({ fail: { errMsg: 'getWeRunData:fail auth deny' } });
  const page = await open('werun');
  await tap(page, '.sync');
  assert.equal(text(page.querySelector('.error')), '需要你的授权才能继续，可在设置中开启');
  await tap(page, '.setting');
  assert.equal(seen.openSetting.length, 1);
});

test('WeRun: SESSION_EXPIRED logs in again, reads WeRun again and resends, transparently', async () => {
  let answered = 0;
  routes['POST /v1/werun/sync'] = () => {
    answered += 1;
    if (answered === 1) return failure(401, 'SESSION_EXPIRED', '登录状态已过期，请重新登录后再同步');
    return { days: [], awarded: { points: 0, carbon_g: 0 } };
  };
  const page = await open('werun');
  await tap(page, '.sync');
  assert.equal(seen.getWeRunData.length, 2);
  assert.equal(seen.login.length, 2);
  assert.equal(text(page.querySelector('.awarded')), '步数已同步，暂无新增积分');
});

const PARTNERS = () => ({ next_cursor: null, items: [
  { id: 'transit', name: '泸州公交', scopes: ['rides'], status: 'unbound', bound_at: null, revoked_at: null, link: 'phone' },
  { id: 'bank', name: '合作银行绿色金融', scopes: ['green_events'], status: 'bound', bound_at: '2026-11-20T10:00:00+08:00', revoked_at: null, link: 'phone' },
  { id: 'bikeshare', name: '青桔单车', scopes: ['rides'], status: 'unbound', bound_at: null, revoked_at: null, link: 'link_code' },
] });

test('partners: phone-number consent for a built-in partner, sync and unbind a bound one', async () => {
  let bound = false;
  routes['GET /v1/partners'] = () => { const list = PARTNERS(); if (bound) list.items[0].status = 'bound'; return list; };
  routes['PUT /v1/partners/transit/consent'] = (request) => {
    assert.equal(request.data.phone_code, 'PHONE-CODE');
    bound = true;
    return { id: 'transit', status: 'bound', bound_at: '2026-12-03T09:00:00+08:00' };
  };
  routes['POST /v1/partners/bank/sync'] = () => ({ imported: 3, duplicates: 0, ignored: 0, awarded: { points: 12, carbon_g: 300 }, has_more: false });
  routes['DELETE /v1/partners/bank/consent'] = () => ({ id: 'bank', status: 'revoked' });
  const page = await open('partners');
  assert.deepEqual(all(page, '.partner .status').map(text), ['未授权', '已授权', '未授权']);
  assert.equal(all(page, '.bind').length, 1); // the open partner has no phone button
  await trigger(page, '.bind', 'getphonenumber', { code: 'PHONE-CODE' });
  assert.equal(text(all(page, '.partner .status')[0]), '已授权');
  await tap(page, '.sync', 1);
  assert.equal(text(page.querySelector('.result')), '同步了 3 条记录，获得 12 积分，减排 300 克');
  await tap(page, '.unbind', 1);
  assert.ok(seen.requests.some((r) => r.method === 'DELETE' && r.path === '/v1/partners/bank/consent'));
});

test('partners: a person who refuses the phone number is told why, and nothing is sent', async () => {
  routes['GET /v1/partners'] = PARTNERS;
  const page = await open('partners');
  await trigger(page, '.bind', 'getphonenumber', { errMsg: 'getPhoneNumber:fail user deny' });
  assert.match(text(page), /需要你的手机号授权才能关联/);
  assert.ok(!seen.requests.some((r) => r.method === 'PUT'));
});

test('partners: an open partner gives a link code to paste in its mini program', async () => {
  routes['GET /v1/partners'] = PARTNERS;
  routes['POST /v1/partners/bikeshare/link-code'] = () => [201, { link_code: 'LK7K3M9QX2ABCDEF', expires_at: '2026-12-03T09:10:00+08:00' }];
  const page = await open('partners');
  await tap(page, '.link');
  assert.match(text(page.querySelector('.link-code')), /LK7K3M9QX2ABCDEF/);
  assert.equal(seen.setClipboardData[0].data, 'LK7K3M9QX2ABCDEF');
});

test('ledger: the month by behaviour and by month, entries paged by cursor, another period', async () => {
  routes['GET /v1/me/summary'] = (request) => make.summary(request.query.period === 'year' ? { period: 'year', carbon_g: 12000, points: 500 } : {});
  routes['GET /v1/me/ledger'] = (request) => (request.query.cursor === 'next'
    ? { items: [make.entry({ id: 'le_3', kind: 'spend', points: -30, carbon_g: 0, behavior: null })], next_cursor: null }
    : { items: [make.entry(), make.entry({ id: 'le_2', points: 2, behavior: 'no_cutlery', carbon_g: 20 })], next_cursor: 'next' });
  const page = await open('ledger');
  assert.equal(text(page.querySelector('.total-carbon')), '850 克');
  assert.deepEqual(all(page, '.by-behavior').map(text), ['光盘打卡 × 3432 克 · 15 积分']);
  assert.deepEqual(all(page, '.by-month').map(text), ['2026-12850 克 · 40 积分']);
  assert.deepEqual(all(page, '.entry .points').map(text), ['+5', '+2']);
  assert.equal(seen.requests.find((r) => r.path === '/v1/me/ledger').query.limit, '20');
  await page.instance.onReachBottom();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(all(page, '.entry .points').map(text), ['+5', '+2', '-30']);
  await tap(page, '.tab', 1);
  assert.equal(text(page.querySelector('.total-carbon')), '12.00 千克');
  assert.equal(text(page.querySelector('.total-points')), '500');
});

test('ledger: "加载中…" while the first answers are awaited, then the entries', async () => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  routes['GET /v1/me/summary'] = () => make.summary();
  routes['GET /v1/me/ledger'] = async () => { await held; return { items: [make.entry()], next_cursor: null }; };
  const page = await open('ledger', {}, { loading: true });
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.match(text(page), /加载中…/);
  assert.equal(all(page, '.entry').length, 0);
  release();
  await page.loaded;
  assert.doesNotMatch(text(page), /加载中…/);
  assert.deepEqual(all(page, '.entry .points').map(text), ['+5']);
});

test('ledger: tapping an entry shows that its proof leads to the day\'s published root, or why not yet', async () => {
  const root = 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7';
  routes['GET /v1/me/summary'] = () => make.summary();
  routes['GET /v1/me/ledger'] = () => ({ items: [make.entry(), make.entry({ id: 'le_2', behavior: 'no_cutlery' })], next_cursor: null });
  routes['GET /v1/me/ledger/le_1/proof'] = () => ({ entry_id: 'le_1', day: '2026-11-20', platform: 'default', root,
    leaf: '{}', leaf_hash: 'aa', shard: 3, shard_path: [], shard_root: 'bb', day_path: [], chain: 'cc' });
  routes['GET /v1/transparency/roots'] = (request) => {
    assert.deepEqual({ ...request.query }, { from: '2026-11-20', to: '2026-11-20' });
    return { items: [{ day: '2026-11-20', platform: 'default', root, entries: 120, carbon_g: 3000, totals: [], prev: '00', chain: 'cc' }] };
  };
  routes['GET /v1/me/ledger/le_2/proof'] = () => failure(409, 'ROOT_NOT_READY');
  const page = await open('ledger');
  await tap(page, '.entry', 0);
  assert.equal(text(page.querySelector('.proof')), '已于 2026-11-20 公示，根哈希 d37ee418976d… 与公示一致');
  await tap(page, '.entry', 1);
  assert.match(text(page), /该记录所在日期尚未公示，请在 9 天后再查看/);
});
