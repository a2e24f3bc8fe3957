// Leaderboards by carbon: people or organizations of this platform (or the members of one organization:
// ?board=org-<id>), this week, this month or all time, with my rank.
import { carbon } from '../../utils/format.js';
import { guarded, refreshed } from '../../utils/page.js';

const BOARDS = [{ key: 'users', text: '个人' }, { key: 'orgs', text: '组织' }];
const PERIODS = [{ key: 'week', text: '本周' }, { key: 'month', text: '本月' }, { key: 'all', text: '总榜' }];

Component({
  data: { loading: false, error: '', boards: BOARDS, periods: PERIODS, board: 'users', period: 'week', items: [], me: null },
  methods: {
    onLoad(query = {}) {
      if (query.board) this.setData({ board: query.board });
      return this.load();
    },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const found = await api.leaderboard(this.data.board, { period: this.data.period });
        const me = found.me ? { ...found.me, carbonText: carbon(found.me.carbon_g),
          rankText: found.me.approximate ? `约第 ${found.me.rank} 名` : `第 ${found.me.rank} 名` } : null;
        this.setData({ items: found.items.map((i) => ({ ...i, carbonText: carbon(i.carbon_g) })), me });
      });
    },
    pickBoard(event) { this.setData({ board: event.currentTarget.dataset.key }); return this.load(); },
    pickPeriod(event) { this.setData({ period: event.currentTarget.dataset.key }); return this.load(); },
  },
});
