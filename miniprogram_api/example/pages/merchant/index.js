// Merchant staff: scan a customer's coupon (wx.scanCode) to verify it, and today's verified redemptions with
// their totals. Pull down to refresh.
import { when } from '../../utils/format.js';
import { cancelled, guarded, refreshed, wxAsync } from '../../utils/page.js';

/** What the QR code says (`qr_payload`) or the code typed in: the API takes either. */
function codeOf(scanned) {
  return String(scanned || '').trim();
}

Component({
  data: { loading: false, sending: false, error: '', verified: null, totals: null, items: [], typed: '' },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const today = await api.merchantRedemptions({});
        this.setData({ totals: today.totals, date: today.date,
          items: today.items.map((r) => ({ ...r, at: when(r.used_at) })) });
      });
    },
    async scan() {
      let scanned;
      try {
        scanned = await wxAsync('scanCode', { onlyFromCamera: true, scanType: ['qrCode'] });
      } catch (failure) {
        if (!cancelled(failure)) wx.showToast({ title: '没有识别到券码', icon: 'none' });
        return;
      }
      await this.verify(codeOf(scanned.result));
    },
    onTyped(event) { this.setData({ typed: event.detail.value }); },
    verifyTyped() { return this.verify(codeOf(this.data.typed)); },
    async verify(code) {
      if (!code) return;
      this.setData({ verified: null });
      const done = await guarded(this, async (api) => {
        const { redemption } = await api.verifyCode(code);
        this.setData({ verified: { name: redemption.goods_name, points: redemption.points_spent, at: when(redemption.used_at) } });
        wx.showToast({ title: '核销成功', icon: 'success' });
        return true;
      }, { key: 'sending' });
      if (done) await this.load(); // today's totals count it (a refusal keeps its message on screen)
    },
  },
});
