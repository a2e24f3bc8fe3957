// Trees, organizations, leaderboards and reminders.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { all, fake, failure, open, reset, routes, seen, tap, text, trigger } from '../testing/harness.js';
import * as make from '../testing/fixtures.js';

beforeEach(() => {
  reset();
  routes['GET /v1/me'] = () => make.me({ orgs: [{ id: 'o-runners', name: '江阳跑团' }] });
});

const ADOPTION = { id: 'ad_1', tree_id: 't-camphor-2026', certificate_no: 'GS-2026-7K3M9QX2', adopted_at: '2026-12-03T09:00:00+08:00',
  accrued_g: 0, species: '香樟', location: '泸州市江阳区', points_price: 300, annual_uptake_g: 18000, days_accrued: 0, days_total: 365,
  status: 'accruing', certificate: { number: 'GS-2026-7K3M9QX2', species: '香樟', location: '泸州市江阳区', adopter_nickname: '小绿', date: '2026-12-03', accrued_g: 0 } };

test('trees: adopt one, then its certificate shows; my trees list it', async () => {
  let adopted = false;
  routes['GET /v1/trees'] = () => ({ next_cursor: null, items: [{ id: 't-camphor-2026', species: '香樟', location: '泸州市江阳区', points_price: 300, annual_uptake_g: 18000, available: 10 }] });
  routes['GET /v1/me/trees'] = () => ({ items: adopted ? [ADOPTION] : [], next_cursor: null });
  routes['POST /v1/trees/t-camphor-2026/adopt'] = (request) => {
    assert.match(request.data.request_id, /^mp_/);
    adopted = true;
    return [201, { adoption: ADOPTION, points: 35, entry: make.entry({ kind: 'spend', points: -300, source: 'tree' }) }];
  };
  const page = await open('trees');
  assert.match(text(page), /还没有认养树木/);
  assert.equal(text(page.querySelector('.adopt')), '300 积分认养');
  await tap(page, '.adopt');
  assert.equal(text(page.querySelector('.cert-no')), 'GS-2026-7K3M9QX2');
  assert.match(text(page.querySelector('.certificate')), /认养人小绿/);
  assert.deepEqual(all(page, '.mine').map(text), ['香樟 · 2026-12-03 09:00已吸收 0 克（0%）']);
});

test('trees: too few points is said in Chinese', async () => {
  routes['GET /v1/trees'] = () => ({ next_cursor: null, items: [{ id: 't-1', species: '水杉', location: '合江', points_price: 200, annual_uptake_g: 9000, available: 1 }] });
  routes['GET /v1/me/trees'] = () => ({ items: [], next_cursor: null });
  routes['POST /v1/trees/t-1/adopt'] = () => failure(422, 'INSUFFICIENT_POINTS');
  const page = await open('trees');
  await tap(page, '.adopt');
  assert.equal(seen.showToast.at(-1).title, '积分不足');
});

test('orgs: list by type, open one, join it with its invite code, see its members board', async () => {
  routes['GET /v1/orgs'] = (request) => ({ next_cursor: null, items: [
    { id: 'o-school', name: '泸州一中', type: 'school', members: 120, carbon_g: 56000 },
    { id: 'o-runners', name: '江阳跑团', type: 'group', members: 30, carbon_g: 9000 },
  ].filter((o) => !request.query.type || o.type === request.query.type) });
  routes['GET /v1/orgs/o-school'] = () => ({ id: 'o-school', name: '泸州一中', type: 'school', members: 120, carbon_g: 56000 });
  routes['POST /v1/orgs/o-school/join'] = (request) => (request.data.invite_code === 'LZ1Z-2026'
    ? { org: { id: 'o-school', name: '泸州一中', type: 'school', members: 121, carbon_g: 56000 } }
    : failure(403, 'INVALID_INVITE', '邀请码不正确'));
  const page = await open('orgs');
  assert.deepEqual(all(page, '.org .name').map(text), ['泸州一中', '江阳跑团']);
  assert.match(text(all(page, '.org')[1]), /已加入/);
  await tap(page, '.tab', 2);
  assert.equal(seen.requests.at(-2).query.type, 'school');
  assert.deepEqual(all(page, '.org .name').map(text), ['泸州一中']);
  await tap(page, '.org', 0);
  assert.equal(text(page.querySelector('.members')), '120');
  await trigger(page, '.invite', 'input', { value: 'WRONG' });
  await tap(page, '.join');
  assert.match(text(page.querySelector('.current .error')), /邀请码不正确/);
  await trigger(page, '.invite', 'input', { value: 'LZ1Z-2026' });
  await tap(page, '.join');
  assert.equal(text(page.querySelector('.members')), '121');
  await tap(page, '.org-board');
  assert.equal(seen.navigateTo[0].url, '/pages/leaderboards/index?board=org-o-school');
});

test('leaderboards: people this week with my rank, then organizations this month', async () => {
  routes['GET /v1/leaderboards/users'] = () => ({ board: 'users', period: 'week', items: [{ rank: 1, id: 'u_1', name: '小绿', carbon_g: 5202.458 }],
    me: { rank: 140, carbon_g: 300, approximate: true } });
  routes['GET /v1/leaderboards/orgs'] = (request) => ({ board: 'orgs', period: request.query.period,
    items: [{ rank: 1, id: 'o-school', name: '泸州一中', carbon_g: 56000 }], me: null });
  const page = await open('leaderboards');
  assert.deepEqual(all(page, '.rank').map(text), ['1. 小绿5.20 千克']);
  assert.equal(text(page.querySelector('.my-rank')), '约第 140 名');
  await tap(page, '.tab', 1); // 组织
  await tap(page, '.tab', 3); // 本月
  assert.equal(seen.requests.at(-1).path, '/v1/leaderboards/orgs');
  assert.equal(seen.requests.at(-1).query.period, 'month');
  assert.deepEqual(all(page, '.rank').map(text), ['1. 泸州一中56.00 千克']);
  assert.equal(page.querySelector('.my-rank'), undefined);
});

test('leaderboards: an organization\'s own board from its page', async () => {
  routes['GET /v1/leaderboards/org-o-school'] = () => ({ items: [{ rank: 1, id: 'u_1', name: '小明', carbon_g: 800 }], me: { rank: 1, carbon_g: 800, approximate: false } });
  const page = await open('leaderboards', { board: 'org-o-school' });
  assert.equal(text(page.querySelector('.my-rank')), '第 1 名');
});

test('reminders: the allowances left; subscribing asks WeChat for the platform\'s templates and records the accepted', async () => {
  let allowances = { coupon_expiring: 0, redemption_used: 0 };
  routes['GET /v1/me/subscriptions'] = () => ({ allowances, sent: [{ topic: 'coupon_expiring', at: '2026-12-01T09:00:00+08:00', ref: 'rd_1' }] });
  routes['POST /v1/me/subscriptions'] = (request) => {
    assert.deepEqual(request.data.accepted, ['coupon_expiring']);
    allowances = { coupon_expiring: 1, redemption_used: 0 };
    return { allowances };
  };
  fake.requestSubscribeMessage = () => ({ 'tpl-coupon': 'accept', 'tpl-used': 'reject' });
  const page = await open('subscriptions');
  assert.deepEqual(all(page, '.topic').map(text), ['优惠券即将过期0', '兑换券已核销0']);
  assert.deepEqual(all(page, '.sent').map(text), ['优惠券即将过期2026-12-01 09:00']);
  await tap(page, '.subscribe');
  assert.deepEqual(seen.requestSubscribeMessage[0].tmplIds, ['tpl-coupon', 'tpl-used']);
  assert.deepEqual(all(page, '.topic').map(text), ['优惠券即将过期1', '兑换券已核销0']);
  assert.equal(text(page.querySelector('.done')), '已开启提醒');
});
