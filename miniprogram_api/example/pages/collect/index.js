// A collection point's staff: scan the member code a person shows (我的 -> 会员码), pick what was handed in
// and how much, and credit it (POST /v1/operator/credit).
import { carbon } from '../../utils/format.js';
import { cancelled, guarded, hint, refreshed, wxAsync } from '../../utils/page.js';

Component({
  data: { loading: false, sending: false, error: '', behaviors: [], picked: 0, quantity: '', memberCode: '', done: '' },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const { items } = await api.behaviors();
        this.setData({ behaviors: items.filter((b) => (b.channels || []).includes('operator'))
          .map((b) => ({ code: b.code, label: `${b.name}（${b.unit}）` })) });
      });
    },
    async scan() {
      try {
        const scanned = await wxAsync('scanCode', { onlyFromCamera: true, scanType: ['qrCode'] });
        this.setData({ memberCode: String(scanned.result || '').trim() }); // the API takes the QR's text (GS:M:...) as it is
      } catch (failure) {
        if (!cancelled(failure)) wx.showToast({ title: '没有识别到会员码', icon: 'none' });
      }
    },
    onPick(event) { this.setData({ picked: Number(event.detail.value) }); },
    onQuantity(event) { this.setData({ quantity: event.detail.value }); },
    credit() {
      const behavior = this.data.behaviors[this.data.picked];
      const quantity = Number(this.data.quantity);
      if (!this.data.memberCode) { hint(this, '请先扫描会员码'); return undefined; }
      if (!behavior || !(quantity > 0)) { hint(this, '请填写数量'); return undefined; }
      return guarded(this, async (api) => {
        const { entry, member } = await api.operatorCredit({ memberCode: this.data.memberCode, behavior: behavior.code, quantity });
        this.setData({ done: `已为 ${member.nickname} 记 ${entry.points} 积分，减排 ${carbon(entry.carbon_g)}`, memberCode: '', quantity: '' });
        wx.showToast({ title: '记分成功', icon: 'success' });
      }, { key: 'sending' });
    },
  },
});
