// WeChat Sports: sync the last days' steps (wx.getWeRunData, read by the client after it logs in). A person
// who refused the permission is sent to the settings.
import { ErrorCode } from '../../api/client.js';
import { carbon } from '../../utils/format.js';
import { guarded } from '../../utils/page.js';

Component({
  data: { loading: false, sending: false, error: '', days: [], awarded: '', denied: false },
  methods: {
    onLoad() {},
    async sync() {
      this.setData({ denied: false });
      await guarded(this, async (api) => {
        try {
          const { days, awarded } = await api.syncWeRun();
          this.setData({
            days: days.map((d) => ({ ...d, carbonText: carbon(d.carbon_g) })).reverse(),
            awarded: awarded.points > 0 ? `本次获得 ${awarded.points} 积分，减排 ${carbon(awarded.carbon_g)}` : '步数已同步，暂无新增积分',
          });
        } catch (error) {
          if (error.code === ErrorCode.WX_AUTH_DENIED) this.setData({ denied: true });
          throw error;
        }
      }, { key: 'sending' });
    },
    openSetting() { wx.openSetting({}); },
  },
});
