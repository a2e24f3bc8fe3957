// How numbers and times read on the pages.

/** 1234.5 g -> "1.23 千克", 850 g -> "850 克". */
export function carbon(grams) {
  const value = Number(grams) || 0;
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} 千克`;
  return `${Math.round(value)} 克`;
}

/** "2026-12-03T08:15:00+08:00" -> "2026-12-03 08:15". */
export function when(iso) {
  if (!iso) return '';
  return String(iso).replace('T', ' ').slice(0, 16);
}

export const REDEMPTION_STATUS = { issued: '未使用', used: '已使用', expired: '已过期', cancelled: '已取消' };
export const ENTRY_KIND = {
  earn: '获得', spend: '兑换', refund: '退回', adjust: '调整', accrual: '植树累计', expire: '过期', held: '审核中',
  release: '审核通过', void: '审核作废',
};
export const PARTNER_STATUS = { unbound: '未授权', bound: '已授权', revoked: '已解除' };
