// Me: profile (nickname), my member code for a collection point (QR), an appeal when my account is under
// review, my data (export, delete), the service's health, and the way to every other page (staff pages only
// for merchant staff).
import { when } from '../../utils/format.js';
import { guarded, hint, refreshed } from '../../utils/page.js';

Component({
  data: { loading: false, error: '', me: null, staff: false, underReview: false, nickname: '', member: null,
    appealText: '', appealed: '', exported: '', health: '' },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const me = await api.me();
        this.setData({ me, nickname: me.nickname, staff: (me.roles || []).includes('merchant_staff'),
          underReview: me.review && me.review.status === 'under_review' });
      });
    },
    go(event) { wx.navigateTo({ url: event.currentTarget.dataset.url }); },
    onNickname(event) { this.setData({ nickname: event.detail.value }); },
    saveNickname() {
      return guarded(this, async (api) => {
        const me = await api.updateMe({ nickname: this.data.nickname });
        this.setData({ me, nickname: me.nickname });
        wx.showToast({ title: me.nickname_status === 'pending' ? '昵称审核中' : '已保存', icon: 'none' });
      }, { key: 'sending' });
    },
    memberCode() {
      return guarded(this, async (api) => {
        const code = await api.memberCode();
        this.setData({ member: { payload: code.qr_payload || code.member_code, expires: when(code.expires_at) } });
      }, { key: 'sending' });
    },
    onAppealText(event) { this.setData({ appealText: event.detail.value }); },
    appeal() {
      if (!this.data.appealText.trim()) { hint(this, '请写下申诉理由'); return undefined; }
      return guarded(this, async (api) => {
        const { appeal } = await api.appeal(this.data.appealText.trim());
        this.setData({ appealed: `申诉已提交（${when(appeal.at)}），我们会尽快处理` });
      }, { key: 'sending' });
    },
    exportData() {
      return guarded(this, async (api) => {
        const data = await api.exportMe();
        const text = JSON.stringify(data);
        wx.setClipboardData({ data: text });
        this.setData({ exported: `已导出 ${data.ledger.length} 条积分记录、${data.redemptions.length} 条兑换记录，已复制到剪贴板` });
      }, { key: 'sending' });
    },
    async deleteAccount() {
      const { confirm } = await new Promise((resolve) => wx.showModal({
        title: '注销账户', content: '注销后积分和记录将被删除，且无法恢复。确定注销？', confirmColor: '#c62828',
        success: resolve, fail: () => resolve({ confirm: false }) }));
      if (!confirm) return;
      await guarded(this, async (api) => {
        await api.deleteMe();
        this.setData({ me: null });
        wx.showToast({ title: '账户已注销', icon: 'none' });
        wx.reLaunch({ url: '/pages/home/index' });
      }, { key: 'sending' });
    },
    checkHealth() {
      return guarded(this, async (api) => {
        const { status } = await api.health();
        this.setData({ health: status === 'ok' ? '服务正常' : `服务状态：${status}` });
      }, { key: 'sending' });
    },
  },
});
