// Trees: saplings to adopt with points, and my adopted trees with their certificate and the carbon they have
// taken up so far. Pull down to refresh.
import { carbon, when } from '../../utils/format.js';
import { guarded, refreshed } from '../../utils/page.js';

function adoption(a) {
  const c = a.certificate || {};
  return { ...a, accrued: carbon(a.accrued_g), adopted: when(a.adopted_at),
    progress: a.days_total ? Math.round((100 * (a.days_accrued || 0)) / a.days_total) : 0,
    cert: { number: c.number || a.certificate_no, nickname: c.adopter_nickname || '', date: c.date || '' } };
}

Component({
  data: { loading: false, sending: false, error: '', trees: [], mine: [], cursor: null, certificate: null },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const [trees, mine] = await Promise.all([api.trees(), api.myTrees({ limit: 20 })]);
        this.setData({ trees: trees.items.map((t) => ({ ...t, uptake: carbon(t.annual_uptake_g) })),
          mine: mine.items.map(adoption), cursor: mine.next_cursor });
      });
    },
    onReachBottom() {
      if (!this.data.cursor) return undefined;
      return guarded(this, async (api) => {
        const page = await api.myTrees({ limit: 20, cursor: this.data.cursor });
        this.setData({ mine: this.data.mine.concat(page.items.map(adoption)), cursor: page.next_cursor });
      });
    },
    adopt(event) {
      const { id } = event.currentTarget.dataset;
      return guarded(this, async (api) => {
        const { adoption: adopted } = await api.adoptTree(id);
        wx.showToast({ title: '认养成功', icon: 'success' });
        await this.load();
        this.setData({ certificate: adoption(adopted) });
      }, { key: 'sending' });
    },
    show(event) {
      this.setData({ certificate: this.data.mine.find((a) => a.id === event.currentTarget.dataset.id) || null });
    },
    closeCertificate() { this.setData({ certificate: null }); },
  },
});
