import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { fake, open, reset, routes, seen, tap, text, trigger } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

beforeEach(() => {
  reset();
  routes['GET /v1/me'] = () => make.me();
});

test('me: the staff pages show only for merchant staff', async () => {
  let page = await open('me');
  assert.equal(page.querySelector('.staff'), undefined);
  routes['GET /v1/me'] = () => make.me({ roles: ['user', 'merchant_staff'] });
  page = await open('me');
  assert.match(text(page.querySelector('.staff')), /扫码核销.*回收点记分/);
});

test('me: a new nickname is saved; the member code shows as a QR code', async () => {
  routes['PATCH /v1/me'] = (request) => make.me({ nickname: request.data.nickname });
  routes['GET /v1/me/member-code'] = () => ({ member_code: 'MC7K3M9QX2AB', qr_payload: 'GS:M:MC7K3M9QX2AB',
    expires_at: '2026-12-03T10:05:00+08:00', expires_in: 300 });
  const page = await open('me');
  await trigger(page, '.nickname', 'input', { value: '绿色小王' });
  await tap(page, '.save');
  assert.equal(seen.requests.find((r) => r.method === 'PATCH').data.nickname, '绿色小王');
  assert.equal(seen.showToast.at(-1).title, '已保存');
  await tap(page, '.member');
  assert.match(text(page), /GS:M:MC7K3M9QX2AB/);
  assert.match(text(page.querySelector('.member-expires')), /2026-12-03 10:05/);
});

test('me: under review, an appeal is sent with its reason', async () => {
  routes['GET /v1/me'] = () => make.me({ review: { status: 'under_review', since: '2026-12-01T00:00:00+08:00', rules: ['r1'], points_held: 5, carbon_held_g: 10 } });
  routes['POST /v1/me/appeals'] = (request) => [201, { appeal: { id: 'ap_1', status: 'open', at: '2026-12-03T09:00:00+08:00' }, text: request.data.text }];
  const page = await open('me');
  await trigger(page, '.appeal-text', 'input', { value: '我每天都走路上班' });
  await tap(page, '.appeal');
  assert.equal(seen.requests.at(-1).data.text, '我每天都走路上班');
  assert.equal(text(page.querySelector('.appealed')), '申诉已提交（2026-12-03 09:00），我们会尽快处理');
});

test('me: export copies my data; deleting asks first and then forgets the session; health', async () => {
  routes['GET /v1/me/export'] = () => ({ format: 'greensprout-export-v1', exported_at: '2026-12-03T09:00:00+08:00', profile: make.me(),
    consents: [], ledger: [make.entry(), make.entry({ id: 'le_2' })], summaries: [], redemptions: [make.redemption()], adoptions: [], orgs: [] });
  routes['DELETE /v1/me'] = (request) => { assert.deepEqual({ ...request.data }, { confirm: 'DELETE' }); return { deleted: true }; };
  routes['GET /v1/health'] = () => ({ status: 'ok' });
  const page = await open('me');
  await tap(page, '.export');
  assert.equal(text(page.querySelector('.exported')), '已导出 2 条积分记录、1 条兑换记录，已复制到剪贴板');
  assert.match(seen.setClipboardData[0].data, /"ledger"/);
  await tap(page, '.health');
  assert.equal(text(page.querySelector('.health-text')), '服务正常');
  fake.showModal = () => ({ confirm: false });
  await tap(page, '.delete');
  assert.ok(!seen.requests.some((r) => r.method === 'DELETE'));
  fake.showModal = () => ({ confirm: true });
  await tap(page, '.delete');
  assert.ok(seen.requests.some((r) => r.method === 'DELETE'));
  assert.equal(globalThis.wx.getStorageSync('greensprout.session'), '');
  assert.equal(seen.reLaunch[0].url, '/pages/home/index');
});
