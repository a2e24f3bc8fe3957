// Answers of the API as openapi.yaml shapes them, for the page tests.
export const me = (changes = {}) => ({
  id: 'u_TEST', nickname: '小绿', avatar_url: null, points: 135, carbon_g: 2450.5, person_carbon_g: 3120,
  points_earned: 200, points_spent: 65, joined_at: '2026-11-01T09:00:00+08:00', roles: ['user'], frozen: false,
  orgs: [], nickname_status: 'ok', points_expiring: { points: 0, on: null }, platform: { id: 'default', name: '绿芽' },
  review: { status: 'clear', since: null, rules: [], points_held: 0, carbon_held_g: 0 }, today: {}, ...changes,
});

export const summary = (changes = {}) => ({
  period: 'month', carbon_g: 850, points: 40,
  by_behavior: [{ behavior: 'clean_plate', name: '光盘打卡', count: 3, carbon_g: 432, points: 15 }],
  by_month: [{ month: '2026-12', carbon_g: 850, points: 40 }],
  equivalents: { tree_days: 17, car_km: 3.6 }, ...changes,
});

export const stats = () => ({ registered_users: 1024, active_users_today: 88, points_issued: 50000, carbon_g: 1234567,
  organizations: 3, adoptions: 12, day: '2026-12-03' });

export const behaviors = () => ({ items: [
  { code: 'clean_plate', name: '光盘打卡', category: 'food', unit: 'event', carbon_g_per_unit: 144,
    points_rule: { points: 5, per: 1 }, daily_limit: 3, daily_points_max: null, daily_quantity_max: null,
    evidence: ['photo'], channels: ['checkin'], methodology: { id: 'm', version: '1', source: 's', estimate: true } },
  { code: 'no_cutlery', name: '外卖不要餐具', category: 'food', unit: 'event', carbon_g_per_unit: 20,
    points_rule: { points: 2, per: 1 }, daily_limit: 3, daily_points_max: null, daily_quantity_max: null,
    evidence: [], channels: ['checkin'], methodology: { id: 'm', version: '1', source: 's', estimate: true } },
  { code: 'green_parking', name: '绿色停驶', category: 'travel', unit: 'day', carbon_g_per_unit: 3000,
    points_rule: { points: 20, per: 1 }, daily_limit: 1, daily_points_max: null, daily_quantity_max: null,
    evidence: ['odometer_km'], channels: ['checkin'], methodology: { id: 'm', version: '1', source: 's', estimate: true } },
  { code: 'walk_steps', name: '低碳步行', category: 'travel', unit: 'step', carbon_g_per_unit: 0.06,
    points_rule: { points: 1, per: 500 }, daily_limit: null, daily_points_max: null, daily_quantity_max: null,
    evidence: [], channels: ['werun'], methodology: { id: 'm', version: '1', source: 's', estimate: true } },
  { code: 'old_clothes', name: '旧衣回收', category: 'recycling', unit: 'kg', carbon_g_per_unit: 3600,
    points_rule: { points: 30, per: 1 }, daily_limit: null, daily_points_max: null, daily_quantity_max: null,
    evidence: [], channels: ['operator'], methodology: { id: 'm', version: '1', source: 's', estimate: true } },
] });

export const entry = (changes = {}) => ({ id: 'le_1', at: '2026-12-03T08:00:00+08:00', kind: 'earn', points: 5,
  carbon_g: 144, behavior: 'clean_plate', source: 'checkin', ref: null, methodology: null, balance_after: 140,
  counted_via: null, ...changes });

export const goods = (changes = {}) => ({ id: 'g-cafe-own-cup', name: '自带杯立减', kind: 'coupon', category: 'drinks',
  description: null, points_price: 30, stock_left: 12, per_user_limit: 2, merchant: { id: 'm-cafe', name: '绿芽咖啡' },
  valid_days: 30, cancellable: true, refund_on_expiry: false, ...changes });

export const redemption = (changes = {}) => ({ id: 'rd_1', goods_id: 'g-cafe-own-cup', code: 'ABCD1234EFGH5678',
  status: 'issued', expires_at: '2027-01-02T23:59:59+08:00', points_spent: 30, goods_name: '自带杯立减', kind: 'coupon',
  merchant: { id: 'm-cafe', name: '绿芽咖啡' }, qr_payload: 'GS:R:ABCD1234EFGH5678', created_at: '2026-12-03T08:00:00+08:00',
  used_at: null, cancelled_at: null, expired_at: null, refunded: false, cancellable: true, address: null, ...changes });
