// Organizations: schools, companies and groups of this platform; one opened shows its members and carbon and
// its own leaderboard; join with the invite code the organization gave.
import { carbon } from '../../utils/format.js';
import { guarded, hint, refreshed } from '../../utils/page.js';

const TYPES = [{ key: '', text: '全部' }, { key: 'enterprise', text: '企业' }, { key: 'school', text: '学校' }, { key: 'group', text: '团体' }];
const TYPE_TEXT = { enterprise: '企业', school: '学校', group: '团体' };

function org(o) {
  return { ...o, typeText: TYPE_TEXT[o.type] || o.type, carbonText: carbon(o.carbon_g) };
}

Component({
  data: { loading: false, sending: false, error: '', types: TYPES, type: '', items: [], mineIds: [], current: null, invite: '' },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const [list, me] = await Promise.all([api.orgs({ type: this.data.type || undefined }), api.me()]);
        const mine = (me.orgs || []).map((o) => o.id);
        this.setData({ items: list.items.map((o) => ({ ...org(o), member: mine.includes(o.id) })), mineIds: mine });
      });
    },
    pick(event) {
      this.setData({ type: event.currentTarget.dataset.type });
      return this.load();
    },
    open(event) {
      const { id } = event.currentTarget.dataset;
      return guarded(this, async (api) => {
        const found = await api.org(id);
        this.setData({ current: { ...org(found), member: this.data.mineIds.includes(id) }, invite: '' });
      }, { key: 'sending' });
    },
    close() { this.setData({ current: null }); },
    onInvite(event) { this.setData({ invite: event.detail.value }); },
    join() {
      const code = this.data.invite.trim();
      if (!code) { hint(this, '请输入邀请码'); return undefined; }
      return guarded(this, async (api) => {
        const joined = await api.joinOrg(this.data.current.id, code);
        this.setData({ current: { ...org(joined.org), member: true } });
        wx.showToast({ title: '已加入', icon: 'success' });
        await this.load();
      }, { key: 'sending' });
    },
    board() {
      wx.navigateTo({ url: `/pages/leaderboards/index?board=org-${this.data.current.id}` });
    },
  },
});
