import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { all, fake, failure, open, reset, routes, seen, tap, text } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

beforeEach(() => {
  reset();
  routes['GET /v1/me'] = () => make.me();
  routes['GET /v1/market/goods'] = (request) => (request.query.cursor
    ? { items: [make.goods({ id: 'g-more', name: '帆布袋', kind: 'physical', points_price: 100 })], next_cursor: null }
    : { items: [make.goods(), make.goods({ id: 'g-sold', name: '拿铁半价', stock_left: 0 })], next_cursor: 'c1' });
});

test('the market shows my points, each goods with price and stock, and loads more at the bottom', async () => {
  const page = await open('market');
  assert.equal(text(page.querySelector('.points')), '135');
  assert.deepEqual(all(page, '.goods .name').map(text), ['自带杯立减', '拿铁半价']);
  assert.equal(text(all(page, '.stock')[0]), '剩余 12');
  assert.equal(text(all(page, '.stock')[1]), '已兑完');
  await page.instance.onReachBottom();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(all(page, '.goods .name').map(text), ['自带杯立减', '拿铁半价', '帆布袋']);
  assert.doesNotMatch(text(page), /上拉加载更多/);
});

test('redeeming asks for the coupon reminder first, then redeems and opens the redemption', async () => {
  const order = [];
  routes['POST /v1/me/subscriptions'] = (request) => { order.push(['subscribe', request.data.accepted]); return { allowances: { coupon_expiring: 1 } }; };
  routes['POST /v1/market/goods/g-cafe-own-cup/redeem'] = (request) => {
    order.push(['redeem', request.data.address]);
    return [201, { redemption: make.redemption(), points: 105, entry: make.entry({ kind: 'spend', points: -30, carbon_g: 0 }) }];
  };
  const page = await open('market');
  await tap(page, '.redeem', 0);
  assert.deepEqual(seen.requestSubscribeMessage[0].tmplIds, ['tpl-coupon']);
  assert.deepEqual(order, [['subscribe', ['coupon_expiring']], ['redeem', undefined]]);
  assert.equal(text(page.querySelector('.points')), '105');
  assert.equal(seen.showToast.at(-1).title, '兑换成功');
  assert.equal(seen.navigateTo.at(-1).url, '/pages/redemptions/index?id=rd_1');
});

test('a refused reminder does not stop the redemption; physical goods take the address from wx.chooseAddress', async () => {
  fake.requestSubscribeMessage = () => ({ fail: { errMsg: 'requestSubscribeMessage:fail cancel' } });
  let address;
  routes['POST /v1/market/goods/g-bag/redeem'] = (request) => {
    address = request.data.address;
    return [201, { redemption: make.redemption({ id: 'rd_2', kind: 'physical' }), points: 35, entry: make.entry({ kind: 'spend', points: -100 }) }];
  };
  routes['GET /v1/market/goods'] = () => ({ items: [make.goods({ id: 'g-bag', name: '帆布袋', kind: 'physical', points_price: 100 })], next_cursor: null });
  const page = await open('market');
  await tap(page, '.redeem', 0);
  assert.deepEqual(address, { name: '张三', phone: '13800138000', region: '四川省 泸州市 江阳区', detail: '酒城大道 1 号' });
  assert.equal(seen.navigateTo.at(-1).url, '/pages/redemptions/index?id=rd_2');
});

test('too few points is said in Chinese and nothing opens', async () => {
  routes['POST /v1/market/goods/g-cafe-own-cup/redeem'] = () => failure(422, 'INSUFFICIENT_POINTS', '积分不足');
  const page = await open('market');
  await tap(page, '.redeem', 0);
  assert.equal(seen.showToast.at(-1).title, '积分不足');
  assert.equal(seen.navigateTo, undefined);
});
