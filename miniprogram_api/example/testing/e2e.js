// The pages against the real local API (tests/integration/test_miniprogram_example.py runs it with the
// server's URL): log in, check in and earn, redeem, verify as the merchant's staff, see the code used.
// Env: BASE_URL, USER_OPENID, STAFF_OPENID, GOODS_NAME (a goods the check-in's points buy, of the staff's merchant).
// Prints one JSON line: {"redemption_id", "code", "exchanges": [{method, url, status, body}]} (every answer, for
// the pytest to check against openapi.yaml).
import assert from 'node:assert/strict';
import { actAs, all, fake, open, reset, seen, tap, text, useHttp } from './harness.js';

const { BASE_URL, USER_OPENID, STAFF_OPENID, GOODS_NAME } = process.env;
assert.ok(BASE_URL && USER_OPENID && STAFF_OPENID && GOODS_NAME, 'BASE_URL, USER_OPENID, STAFF_OPENID and GOODS_NAME');

reset();
useHttp(BASE_URL);
actAs(USER_OPENID);

function noErrors(page, step) {
  assert.doesNotMatch(text(page), /出了点问题|请先登录|接口不存在/, step);
}

// home: the platform's branding, a new account with no points
const home = await open('home');
noErrors(home, 'home');
assert.match(text(home), /绿芽/);
assert.equal(text(home.querySelector('.points')), '0');

// check in: "外卖不要餐具" takes no evidence and earns 2 points
const checkin = await open('checkin');
const names = all(checkin, '.behavior .name').map(text);
const noCutlery = names.indexOf('外卖不要餐具');
assert.ok(noCutlery >= 0, names.join(','));
await tap(checkin, '.go', noCutlery);
assert.match(text(checkin.querySelector('.result')), /^外卖不要餐具：\+2 积分，减排 \d+ 克$/);

// market: the goods (scrolled to: the shared stack has other tests' goods), reminder asked first, redeemed
const market = await open('market');
assert.equal(text(market.querySelector('.points')), '2');
let index = all(market, '.goods .name').map(text).indexOf(GOODS_NAME);
for (let pages = 0; index < 0 && market.instance.data.cursor && pages < 50; pages += 1) {
  await market.instance.onReachBottom();
  await new Promise((resolve) => setTimeout(resolve, 20));
  index = all(market, '.goods .name').map(text).indexOf(GOODS_NAME);
}
assert.ok(index >= 0, `${GOODS_NAME} is on sale`);
await tap(market, '.redeem', index);
noErrors(market, 'redeem');
assert.equal(seen.requestSubscribeMessage.length, 1);
assert.equal(text(market.querySelector('.points')), '0');
const opened = seen.navigateTo.at(-1).url;
const redemptionId = new URL(opened, 'https://x').searchParams.get('id');

// my redemption: its code, and the QR code of its qr_payload
let mine = await open('redemptions', { id: redemptionId });
assert.equal(text(mine.querySelector('.detail .status')), '未使用');
const code = text(mine.querySelector('.detail .code'));
const qr = mine.querySelector('.code-qr');
assert.equal(qr.instance.data.text, `GS:R:${code}`);
assert.ok(qr.instance.data.moduleCount >= 21);

// the merchant's staff scans it
actAs(STAFF_OPENID);
fake.scanCode = () => ({ result: qr.instance.data.text });
const merchant = await open('merchant');
noErrors(merchant, 'merchant');
const before = Number(text(merchant.querySelector('.count')));
await tap(merchant, '.scan');
assert.match(text(merchant.querySelector('.verified')), new RegExp(`^已核销：${GOODS_NAME}（2 积分）`));
assert.equal(Number(text(merchant.querySelector('.count'))), before + 1);

// the user sees the code used, and no QR code to scan again
actAs(USER_OPENID);
mine = await open('redemptions', { id: redemptionId });
assert.equal(text(mine.querySelector('.detail .status')), '已使用');
assert.equal(mine.querySelector('.code-qr'), undefined);
assert.equal(seen.login.length, 3); // user, staff, user: each once, by the client itself

console.log(JSON.stringify({ redemption_id: redemptionId, code, exchanges: seen.exchanges }));
