import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { MESSAGES } from '../api/errors.js';
import { all, fake, failure, open, reset, routes, seen, tap, text, trigger } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

beforeEach(() => {
  reset();
  routes['GET /v1/behaviors'] = () => make.behaviors();
  routes['GET /v1/me'] = () => make.me();
});

test('check-in lists the behaviours a person reports on this platform, each with its daily limit', async () => {
  const page = await open('checkin');
  const names = all(page, '.behavior .name').map(text);
  assert.deepEqual(names, ['光盘打卡', '外卖不要餐具', '绿色停驶']); // not WeRun's steps, not the collection point's clothes
  assert.equal(text(all(page, '.limit')[0]), '每天最多 3 次');
  assert.match(text(all(page, '.behavior')[0]), /需要拍一张照片/);
  assert.match(text(all(page, '.behavior')[0]), /拍照打卡/);
});

test('a photo behaviour uploads the photo first (POST /v1/uploads, wx.uploadFile) and names it in the check-in', async () => {
  routes['POST /v1/uploads'] = (request) => {
    assert.deepEqual({ ...request.data }, { purpose: 'checkin_evidence', content_type: 'image/jpeg', size: 120000 });
    return [201, { upload_id: 'up_1', url: 'https://uploads.test/bucket', fields: { key: 'k' }, expires_at: '2026-12-03T09:00:00+08:00' }];
  };
  let sent;
  routes['POST /v1/checkins'] = (request) => {
    sent = request.data;
    return [201, { entry: make.entry(), points: 140, carbon_g: 2594.5 }];
  };
  const page = await open('checkin');
  await tap(page, '.go', 0);
  assert.equal(seen.uploadFile[0].url, 'https://uploads.test/bucket');
  assert.equal(seen.uploadFile[0].filePath, 'wxfile://tmp/plate.jpg');
  assert.deepEqual(sent.evidence, { upload_id: 'up_1' });
  assert.equal(sent.behavior, 'clean_plate');
  assert.match(sent.request_id, /^mp_/);
  assert.equal(text(page.querySelector('.result')), '光盘打卡：+5 积分，减排 144 克');
});

test('closing the camera sends nothing', async () => {
  fake.chooseMedia = () => ({ fail: { errMsg: 'chooseMedia:fail cancel' } });
  const page = await open('checkin');
  await tap(page, '.go', 0);
  assert.ok(!seen.requests.some((r) => r.path === '/v1/checkins' || r.path === '/v1/uploads'));
  assert.equal(text(page).includes('出了点问题'), false);
});

test('green parking takes the odometer reading and shows why a moved car earns nothing', async () => {
  let sent;
  routes['POST /v1/checkins'] = (request) => {
    sent = request.data;
    return [201, { entry: make.entry({ points: 0, carbon_g: 0, behavior: 'green_parking' }), points: 135, carbon_g: 2450.5,
      verification: { verified: false, reason: 'moved', previous_km: 12000, message: '里程比上次多了 34.5 公里，本次不计减排' } }];
  };
  const page = await open('checkin');
  await trigger(page, '.input', 'input', { value: '12034.5' }, 0);
  await tap(page, '.go', 2);
  assert.deepEqual({ quantity: sent.quantity, evidence: sent.evidence }, { quantity: 1, evidence: { odometer_km: 12034.5 } });
  assert.equal(text(page.querySelector('.result')), '里程比上次多了 34.5 公里，本次不计减排');
});

test('every error code of the contract is shown as its Chinese message, from the answer or from errors.js', async () => {
  const page = await open('checkin');
  assert.ok(Object.keys(MESSAGES).length > 40);
  for (const [code, message] of Object.entries(MESSAGES)) {
    if (code === 'UNAUTHENTICATED' || code === 'SESSION_EXPIRED') continue; // logged in again: the 401 test
    routes['POST /v1/checkins'] = () => failure(code === 'DAILY_LIMIT_REACHED' ? 429 : 400, code); // no message: errors.js's
    await tap(page, '.go', 1);
    assert.ok(text(page).includes(message), `${code}: ${text(page)}`);
    assert.equal(seen.showToast.at(-1).title, message, code);
  }
  routes['POST /v1/checkins'] = () => failure(429, 'DAILY_LIMIT_REACHED', '今天这项已经打满 3 次了');
  await tap(page, '.go', 1);
  assert.match(text(page), /今天这项已经打满 3 次了/);
});

test('a behaviour counted in kilograms asks for the quantity before sending, then sends it', async () => {
  routes['GET /v1/behaviors'] = () => ({ items: [...make.behaviors().items.slice(0, 3),
    { code: 'garbage_sorting', name: '垃圾分类', category: 'recycling', unit: 'kg', carbon_g_per_unit: 100,
      points_rule: { points: 1, per: 1 }, daily_limit: null, daily_points_max: null, daily_quantity_max: 20,
      evidence: [], channels: ['checkin'], methodology: { id: 'm', version: '1', source: 's', estimate: true } }] });
  const standard = routes['GET /v1/platform']();
  routes['GET /v1/platform'] = () => ({ ...standard, behaviors: [...standard.behaviors, 'garbage_sorting'] });
  let sent;
  routes['POST /v1/checkins'] = (request) => {
    sent = request.data;
    return [201, { entry: make.entry({ points: 2, carbon_g: 250, behavior: 'garbage_sorting' }), points: 137, carbon_g: 2700 }];
  };
  const page = await open('checkin');
  await tap(page, '.go', 3);
  assert.match(text(page), /请填写数量（kg）/);
  assert.equal(sent, undefined);
  await trigger(page, '.input', 'input', { value: '2.5' }, 1);
  await tap(page, '.go', 3);
  assert.equal(sent.quantity, 2.5);
  assert.equal(sent.behavior, 'garbage_sorting');
});

test('what today already used of a daily limit is shown before a refusal, and a full one cannot be tapped', async () => {
  routes['GET /v1/me'] = () => make.me({ today: { clean_plate: { count: 3, points: 0, quantity: 0 },
    no_cutlery: { count: 1, points: 0, quantity: 0 } } });
  routes['POST /v1/checkins'] = () => [201, { entry: make.entry({ points: 2, carbon_g: 20, behavior: 'no_cutlery' }), points: 137, carbon_g: 2470.5 }];
  const page = await open('checkin');
  const limits = all(page, '.limit').map(text);
  assert.deepEqual(limits.slice(0, 2), ['每天最多 3 次，今天已满', '每天最多 3 次，今天已打卡 1 次']);
  await tap(page, '.go', 0); // full today: nothing is asked or sent
  assert.ok(!seen.requests.some((r) => r.path === '/v1/checkins' || r.path === '/v1/uploads'));
  assert.equal(seen.chooseMedia, undefined);
  await tap(page, '.go', 1);
  assert.equal(text(all(page, '.limit')[1]), '每天最多 3 次，今天已打卡 2 次');
});
