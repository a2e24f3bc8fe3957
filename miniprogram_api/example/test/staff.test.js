// The pages of merchant staff: scan and verify with today's totals; a collection point's credit.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { all, fake, failure, open, reset, routes, seen, tap, text, trigger } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

let verified;

beforeEach(() => {
  reset();
  verified = [];
  routes['GET /v1/merchant/redemptions'] = () => ({ date: '2026-12-03', next_cursor: null,
    items: verified.map((id) => ({ id, goods_id: 'g-cafe-own-cup', goods_name: '自带杯立减', used_at: '2026-12-03T10:30:00+08:00', points_spent: 30 })),
    totals: { count: verified.length, points: 30 * verified.length } });
  routes['GET /v1/behaviors'] = () => make.behaviors();
});

test('merchant: a scanned code is verified and today\'s totals count it', async () => {
  routes['POST /v1/merchant/verify'] = (request) => {
    assert.equal(request.data.code, 'GS:R:ABCD1234EFGH5678'); // the QR's text, as scanned
    verified.push('rd_1');
    return { redemption: { id: 'rd_1', goods_id: 'g-cafe-own-cup', status: 'used', used_at: '2026-12-03T10:30:00+08:00', points_spent: 30, goods_name: '自带杯立减' } };
  };
  const page = await open('merchant');
  assert.equal(text(page.querySelector('.count')), '0');
  await tap(page, '.scan');
  assert.equal(seen.scanCode[0].onlyFromCamera, true);
  assert.equal(text(page.querySelector('.verified')), '已核销：自带杯立减（30 积分）2026-12-03 10:30');
  assert.equal(text(page.querySelector('.count')), '1');
  assert.equal(text(page.querySelector('.total-points')), '30');
  assert.deepEqual(all(page, '.used').map(text), ['自带杯立减2026-12-03 10:30']);
});

test('merchant: a code already used says so in Chinese; a closed camera sends nothing', async () => {
  routes['POST /v1/merchant/verify'] = () => failure(409, 'CODE_ALREADY_USED', '该券码已使用');
  const page = await open('merchant');
  await tap(page, '.scan');
  assert.equal(text(page.querySelector('.error')), '该券码已使用');
  fake.scanCode = () => ({ fail: { errMsg: 'scanCode:fail cancel' } });
  const before = seen.requests.length;
  await tap(page, '.scan');
  assert.equal(seen.requests.length, before);
});

test('collection point: scan the member code, pick what was handed in, credit it', async () => {
  fake.scanCode = () => ({ result: 'GS:M:MC7K3M9QX2AB' });
  let sent;
  routes['POST /v1/operator/credit'] = (request) => {
    sent = request.data;
    return [201, { entry: make.entry({ points: 75, carbon_g: 9000, behavior: 'old_clothes', source: 'operator' }), member: { nickname: '小绿' } }];
  };
  const page = await open('collect');
  assert.equal(text(page.querySelector('.picked')), '旧衣回收（kg）'); // the only `operator` behaviour
  await tap(page, '.credit');
  assert.match(text(page.querySelector('.error')), /请先扫描会员码/);
  await tap(page, '.scan');
  assert.equal(text(page.querySelector('.member-code')), 'GS:M:MC7K3M9QX2AB');
  await trigger(page, '.quantity', 'input', { value: '2.5' });
  await tap(page, '.credit');
  assert.equal(sent.member_code, 'GS:M:MC7K3M9QX2AB');
  assert.equal(sent.behavior, 'old_clothes');
  assert.equal(sent.quantity, 2.5);
  assert.match(sent.request_id, /^mp_/);
  assert.equal(text(page.querySelector('.done')), '已为 小绿 记 75 积分，减排 9.00 千克');
});
