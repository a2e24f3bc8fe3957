// Partners of this platform: bind a built-in one with the phone-number button (its `link` is `phone`) and pull
// its events (sync); for an open-protocol one (`link_code`) get a link code to hand to its mini program.
import { carbon, PARTNER_STATUS, when } from '../../utils/format.js';
import { guarded, hint, refreshed } from '../../utils/page.js';

function shown(p) {
  return { ...p, statusText: PARTNER_STATUS[p.status] || p.status, bound: p.status === 'bound',
    byPhone: p.link === 'phone', since: when(p.bound_at) };
}

Component({
  data: { loading: false, error: '', items: [], busy: '', result: '', linkCode: null },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const { items } = await api.partners();
        this.setData({ items: items.map(shown) });
      });
    },
    async act(id, work) {
      this.setData({ busy: id, result: '' });
      try {
        await guarded(this, work, { key: 'sending' });
      } finally {
        this.setData({ busy: '' });
      }
    },
    // <button open-type="getPhoneNumber">: e.detail.code is the one-time code the API exchanges with WeChat
    onPhone(event) {
      const { id } = event.currentTarget.dataset;
      if (!event.detail || !event.detail.code) { hint(this, '需要你的手机号授权才能关联'); return undefined; }
      return this.act(id, async (api) => {
        await api.bindPartner(id, event.detail.code);
        wx.showToast({ title: '已授权', icon: 'success' });
        await this.load();
      });
    },
    sync(event) {
      const { id } = event.currentTarget.dataset;
      return this.act(id, async (api) => {
        const got = await api.syncPartner(id);
        this.setData({ result: `同步了 ${got.imported} 条记录，获得 ${got.awarded.points} 积分，减排 ${carbon(got.awarded.carbon_g)}` });
      });
    },
    unbind(event) {
      const { id } = event.currentTarget.dataset;
      return this.act(id, async (api) => {
        await api.unbindPartner(id);
        wx.showToast({ title: '已解除授权', icon: 'none' });
        await this.load();
      });
    },
    link(event) {
      const { id } = event.currentTarget.dataset;
      return this.act(id, async (api) => {
        const code = await api.partnerLinkCode(id);
        this.setData({ linkCode: { partner: id, code: code.link_code, expires: when(code.expires_at) } });
        wx.setClipboardData({ data: code.link_code });
      });
    },
  },
});
