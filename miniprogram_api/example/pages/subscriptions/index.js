// Reminders (WeChat subscribe messages): how many of each I can still receive, the last ones sent, and a
// button that asks wx.requestSubscribeMessage for the platform's topics (GET /v1/platform subscribe_templates).
import { platform } from '../../utils/api.js';
import { when } from '../../utils/format.js';
import { guarded, refreshed } from '../../utils/page.js';

const TOPIC = { coupon_expiring: '优惠券即将过期', points_expiring: '积分即将过期', redemption_used: '兑换券已核销', weekly_report: '每周减排报告' };

Component({
  data: { loading: false, sending: false, error: '', topics: [], sent: [], done: '' },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const found = await api.subscriptions();
        this.setData({
          topics: Object.keys(found.allowances).map((t) => ({ topic: t, name: TOPIC[t] || t, left: found.allowances[t] })),
          sent: found.sent.map((s) => ({ ...s, name: TOPIC[s.topic] || s.topic, at: when(s.at) })),
        });
      });
    },
    subscribe() {
      return guarded(this, async (api) => {
        const templates = (await platform()).subscribe_templates || {};
        // at most 3 templates in one wx.requestSubscribeMessage
        const topics = Object.keys(templates).slice(0, 3);
        const { allowances } = await api.subscribe(topics, templates);
        const accepted = Object.keys(allowances).length;
        this.setData({ done: accepted ? '已开启提醒' : '你没有选择任何提醒' });
        await this.load();
      }, { key: 'sending' });
    },
  },
});
