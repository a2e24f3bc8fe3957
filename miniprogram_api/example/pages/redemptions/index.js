// My redemptions: the list, and one redemption with its code as a QR code (components/qr-code) for the
// merchant's staff to scan; an issued, cancellable one can be cancelled (its points come back).
import { REDEMPTION_STATUS, when } from '../../utils/format.js';
import { guarded, refreshed } from '../../utils/page.js';

function shown(r) {
  return { ...r, statusText: REDEMPTION_STATUS[r.status] || r.status, expires: when(r.expires_at),
    canCancel: r.status === 'issued' && r.cancellable };
}

Component({
  data: { loading: false, error: '', items: [], cursor: null, current: null },
  methods: {
    onLoad(query = {}) {
      this.openId = query.id || null;
      return this.load();
    },
    onPullDownRefresh() { return refreshed(this); },
    onReachBottom() { if (this.data.cursor) return this.more(); return undefined; },
    async load() {
      await guarded(this, async (api) => {
        const page = await api.redemptions({ limit: 20 });
        this.setData({ items: page.items.map(shown), cursor: page.next_cursor });
      });
      if (this.openId) await this.show(this.openId);
    },
    more() {
      return guarded(this, async (api) => {
        const page = await api.redemptions({ limit: 20, cursor: this.data.cursor });
        this.setData({ items: this.data.items.concat(page.items.map(shown)), cursor: page.next_cursor });
      });
    },
    async show(id) {
      this.openId = id;
      await guarded(this, async (api) => {
        const { redemption } = await api.redemption(id);
        this.setData({ current: shown(redemption) });
      }, { key: 'opening' });
    },
    open(event) { return this.show(event.currentTarget.dataset.id); },
    close() { this.openId = null; this.setData({ current: null }); },
    async cancel() {
      const current = this.data.current;
      const { confirm } = await new Promise((resolve) => wx.showModal({
        title: '取消兑换', content: `取消「${current.goods_name}」，退回 ${current.points_spent} 积分？`,
        success: resolve, fail: () => resolve({ confirm: false }) }));
      if (!confirm) return;
      await guarded(this, async (api) => {
        const { redemption } = await api.cancelRedemption(current.id);
        const updated = shown(redemption);
        this.setData({ current: updated, items: this.data.items.map((r) => (r.id === updated.id ? updated : r)) });
        wx.showToast({ title: '已取消，积分已退回', icon: 'none' });
      }, { key: 'sending' });
    },
  },
});
