// Points and carbon: the summary of a period (by month and by behaviour), then every ledger entry, newest
// first, 20 at a time (scroll down for more). Pull down to refresh. Tapping an entry asks for its proof of
// inclusion (GET /v1/me/ledger/{id}/proof) and sets its root beside the day's published root (GET
// /v1/transparency/roots): the same hash means the entry is in the record anyone can check (docs/transparency.md).
import { carbon, ENTRY_KIND, when } from '../../utils/format.js';
import { guarded, refreshed } from '../../utils/page.js';

const PERIODS = [{ key: 'month', text: '本月' }, { key: 'year', text: '今年' }, { key: 'all', text: '全部' }];

function entry(e) {
  return { ...e, kindText: ENTRY_KIND[e.kind] || e.kind, at: when(e.at), carbonText: carbon(e.carbon_g),
    pointsText: e.points > 0 ? `+${e.points}` : String(e.points) };
}

Component({
  data: { loading: false, error: '', periods: PERIODS, period: 'month', summary: null, items: [], cursor: null, more: false },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    onReachBottom() { if (this.data.cursor) return this.next(); return undefined; },
    load() {
      return guarded(this, async (api) => {
        const [summary, page] = await Promise.all([api.summary(this.data.period), api.ledger({ limit: 20 })]);
        this.setData({ summary: this.summaryView(summary), items: page.items.map(entry), cursor: page.next_cursor });
      });
    },
    summaryView(s) {
      return { carbon: carbon(s.carbon_g), points: s.points,
        byBehavior: s.by_behavior.map((b) => ({ ...b, carbonText: carbon(b.carbon_g) })),
        byMonth: s.by_month.map((m) => ({ ...m, carbonText: carbon(m.carbon_g) })) };
    },
    pick(event) {
      this.setData({ period: event.currentTarget.dataset.period });
      return guarded(this, async (api) => {
        this.setData({ summary: this.summaryView(await api.summary(this.data.period)) });
      });
    },
    prove(event) {
      const id = event.currentTarget.dataset.id;
      const index = this.data.items.findIndex((e) => e.id === id);
      return guarded(this, async (api) => {
        const proof = await api.entryProof(id);
        const published = await api.transparencyRoots(proof.day, proof.day);
        const root = (published.items || []).find((r) => r.day === proof.day);
        const same = Boolean(root) && root.root === proof.root;
        this.setData({ [`items[${index}].proofText`]: same
          ? `已于 ${proof.day} 公示，根哈希 ${proof.root.slice(0, 12)}… 与公示一致`
          : `证明的根哈希与 ${proof.day} 的公示不一致` });
      }, { key: 'proving' });
    },
    next() {
      return guarded(this, async (api) => {
        const page = await api.ledger({ limit: 20, cursor: this.data.cursor });
        this.setData({ items: this.data.items.concat(page.items.map(entry)), cursor: page.next_cursor });
      }, { key: 'more' });
    },
  },
});
