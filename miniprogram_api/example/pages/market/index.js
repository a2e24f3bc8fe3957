// Marketplace: goods on sale with their price and stock; redeem asks first for the coupon reminders
// (wx.requestSubscribeMessage, from the tap), then for a delivery address (wx.chooseAddress) when the goods are
// physical. Pull down to refresh, scroll down for more.
import { platform } from '../../utils/api.js';
import { cancelled, guarded, refreshed, wxAsync } from '../../utils/page.js';

const KIND = { coupon: '优惠券', physical: '实物', experience: '体验' };

function shown(goods) {
  return { ...goods, kindText: KIND[goods.kind] || goods.kind, soldOut: goods.stock_left <= 0 };
}

Component({
  data: { loading: false, error: '', items: [], cursor: null, points: null, busy: '' },
  methods: {
    onLoad() { return this.load(); },
    onShow() { if (this.data.items.length) this.balance(); },
    onPullDownRefresh() { return refreshed(this); },
    onReachBottom() { if (this.data.cursor) return this.more(); return undefined; },
    load() {
      return guarded(this, async (api) => {
        const [page, me] = await Promise.all([api.goods({ limit: 20 }), api.me()]);
        this.setData({ items: page.items.map(shown), cursor: page.next_cursor, points: me.points });
      });
    },
    more() {
      return guarded(this, async (api) => {
        const page = await api.goods({ limit: 20, cursor: this.data.cursor });
        this.setData({ items: this.data.items.concat(page.items.map(shown)), cursor: page.next_cursor });
      });
    },
    async balance() {
      await guarded(this, async (api) => this.setData({ points: (await api.me()).points }), { key: 'refreshing' });
    },
    /** Ask for the coupon reminders; a refusal or a failure never stops the redemption. */
    async remindMe(api) {
      try {
        const templates = (await platform()).subscribe_templates || {};
        if (templates.coupon_expiring) await api.subscribe(['coupon_expiring'], templates);
      } catch (error) {
        // the person said no, or the reminder could not be recorded: redeeming goes on
      }
    },
    async address() {
      try {
        const picked = await wxAsync('chooseAddress');
        return { name: picked.userName, phone: picked.telNumber,
          region: [picked.provinceName, picked.cityName, picked.countyName].filter(Boolean).join(' '),
          detail: picked.detailInfo };
      } catch (failure) {
        if (cancelled(failure)) return null;
        throw failure;
      }
    },
    async redeem(event) {
      const goods = this.data.items.find((g) => g.id === event.currentTarget.dataset.id);
      if (!goods || this.data.busy) return;
      this.setData({ busy: goods.id });
      try {
        await guarded(this, async (api) => {
          await this.remindMe(api);
          let address;
          if (goods.kind === 'physical') {
            address = await this.address();
            if (!address) return;
          }
          const { redemption, points } = await api.redeem(goods.id, { address });
          this.setData({ points });
          wx.showToast({ title: '兑换成功', icon: 'success' });
          wx.navigateTo({ url: `/pages/redemptions/index?id=${redemption.id}` });
        }, { key: 'sending' });
      } finally {
        this.setData({ busy: '' });
      }
    },
  },
});
