// Home: my carbon (on this platform and as a person across platforms), points, what it equals, the platform's
// branding and totals. Pull down to refresh.
import { platform } from '../../utils/api.js';
import { carbon } from '../../utils/format.js';
import { guarded, refreshed } from '../../utils/page.js';

Component({
  data: { loading: false, error: '', ready: false, brand: {}, me: {}, view: {}, underReview: false },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const [found, me, month, stats] = await Promise.all([platform(), api.me(), api.summary('month'), api.stats()]);
        this.setData({
          ready: true,
          brand: found.branding,
          me,
          underReview: me.review && me.review.status === 'under_review',
          view: {
            carbon: carbon(me.carbon_g),
            personCarbon: carbon(me.person_carbon_g),
            monthCarbon: carbon(month.carbon_g),
            treeDays: month.equivalents.tree_days,
            carKm: month.equivalents.car_km,
            platformCarbon: carbon(stats.carbon_g),
            users: stats.registered_users,
          },
        });
      });
    },
    go(event) {
      const { url, tab } = event.currentTarget.dataset;
      if (tab) wx.switchTab({ url }); else wx.navigateTo({ url });
    },
  },
});
