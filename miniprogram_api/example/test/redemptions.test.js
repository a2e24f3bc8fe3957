import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { all, fake, open, reset, routes, seen, tap, text } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

beforeEach(() => {
  reset();
  routes['GET /v1/me/redemptions'] = () => ({ items: [make.redemption(), make.redemption({ id: 'rd_0', status: 'used', goods_name: '拿铁半价' })], next_cursor: null });
  routes['GET /v1/me/redemptions/rd_1'] = () => ({ redemption: make.redemption() });
});

test('my redemptions list their status; one opened shows its code as a QR code of qr_payload', async () => {
  const page = await open('redemptions', { id: 'rd_1' });
  assert.deepEqual(all(page, '.item .status').map(text), ['未使用', '已使用']);
  assert.equal(text(page.querySelector('.detail .code')), 'ABCD1234EFGH5678');
  const qr = page.querySelector('.code-qr');
  assert.ok(qr, 'a qr-code component');
  assert.equal(qr.instance.data.text, 'GS:R:ABCD1234EFGH5678');
  assert.equal(qr.instance.data.moduleCount, 29); // uQRCode's matrix of it: version 3 at error correction H
  assert.match(text(qr), /GS:R:ABCD1234EFGH5678/);
});

test('cancel asks first, then shows the redemption cancelled and the points back', async () => {
  routes['POST /v1/me/redemptions/rd_1/cancel'] = () => ({ redemption: make.redemption({ status: 'cancelled', cancellable: false, refunded: true }),
    points: 165, entry: make.entry({ kind: 'refund', points: 30 }) });
  const page = await open('redemptions', { id: 'rd_1' });
  fake.showModal = () => ({ confirm: false, cancel: true });
  await tap(page, '.cancel');
  assert.ok(!seen.requests.some((r) => r.path.endsWith('/cancel')));
  fake.showModal = () => ({ confirm: true, cancel: false });
  await tap(page, '.cancel');
  assert.match(seen.showModal[0].content, /退回 30 积分/);
  assert.equal(text(page.querySelector('.detail .status')), '已取消');
  assert.equal(page.querySelector('.code-qr'), undefined);
  assert.equal(page.querySelector('.cancel'), undefined);
  assert.equal(text(all(page, '.item .status')[0]), '已取消');
  assert.equal(seen.showToast.at(-1).title, '已取消，积分已退回');
});

test('an item tapped opens it', async () => {
  routes['GET /v1/me/redemptions/rd_0'] = () => ({ redemption: make.redemption({ id: 'rd_0', status: 'used', goods_name: '拿铁半价' }) });
  const page = await open('redemptions');
  assert.equal(page.querySelector('.detail'), undefined);
  await tap(page, '.item', 1);
  assert.match(text(page.querySelector('.detail')), /拿铁半价已使用/);
  assert.equal(page.querySelector('.code-qr'), undefined); // a used code is not shown to scan again
});

test('no redemptions yet says so', async () => {
  routes['GET /v1/me/redemptions'] = () => ({ items: [], next_cursor: null });
  const page = await open('redemptions');
  assert.equal(text(page), '还没有兑换记录');
});
