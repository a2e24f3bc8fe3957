// Check-in: the behaviours of this platform that a person reports, each with its daily limit shown before any
// refusal; a photo (POST /v1/uploads, then wx.uploadFile) when the behaviour's evidence is `photo`, an odometer
// reading when it is `odometer_km`, a quantity when its unit is not one event.
import { platform } from '../../utils/api.js';
import { carbon } from '../../utils/format.js';
import { cancelled, guarded, hint, refreshed, wxAsync } from '../../utils/page.js';

/** The daily limit, and what today already used of it (GET /v1/me `today`), shown before any refusal. */
function limitText(limit, done) {
  if (!limit) return '';
  if (done >= limit) return `每天最多 ${limit} 次，今天已满`;
  return done ? `每天最多 ${limit} 次，今天已打卡 ${done} 次` : `每天最多 ${limit} 次`;
}

function card(behavior, today) {
  const evidence = behavior.evidence || [];
  const done = (today[behavior.code] || {}).count || 0;
  return {
    code: behavior.code,
    name: behavior.name,
    unit: behavior.unit,
    photo: evidence.includes('photo'),
    odometer: evidence.includes('odometer_km'),
    quantity: behavior.unit !== 'event' && !evidence.includes('odometer_km'),
    reward: `${behavior.points_rule.points} 积分 / ${behavior.points_rule.per === 1 ? '' : behavior.points_rule.per}${behavior.unit === 'event' ? '次' : behavior.unit}`,
    dailyLimit: behavior.daily_limit || 0,
    done,
    full: Boolean(behavior.daily_limit) && done >= behavior.daily_limit,
    limit: limitText(behavior.daily_limit, done),
  };
}

Component({
  data: { loading: false, error: '', items: [], inputs: {}, busy: '', result: '' },
  methods: {
    onLoad() { return this.load(); },
    onPullDownRefresh() { return refreshed(this); },
    load() {
      return guarded(this, async (api) => {
        const [found, behaviors, me] = await Promise.all([platform(), api.behaviors(), api.me()]);
        const items = behaviors.items
          .filter((b) => (b.channels || []).includes('checkin') && found.behaviors.includes(b.code))
          .map((b) => card(b, me.today || {}));
        this.setData({ items });
      });
    },
    onInput(event) {
      this.setData({ [`inputs.${event.currentTarget.dataset.code}`]: event.detail.value });
    },
    async photoEvidence(api) {
      let shot;
      try {
        shot = await wxAsync('chooseMedia', { count: 1, mediaType: ['image'], sizeType: ['compressed'], sourceType: ['camera', 'album'] });
      } catch (failure) {
        if (cancelled(failure)) return null;
        throw failure;
      }
      const file = shot.tempFiles[0];
      const contentType = /\.png$/i.test(file.tempFilePath) ? 'image/png' : 'image/jpeg';
      const uploadId = await api.uploadPhoto({ filePath: file.tempFilePath, contentType, size: file.size });
      return { upload_id: uploadId };
    },
    async checkin(event) {
      const item = this.data.items.find((b) => b.code === event.currentTarget.dataset.code);
      if (!item || this.data.busy || item.full) return; // the button is disabled: today's limit is used up
      this.setData({ busy: item.code, result: '', error: '' });
      try {
        await guarded(this, async (api) => {
          const typed = this.data.inputs[item.code];
          const options = {};
          if (item.photo) {
            options.evidence = await this.photoEvidence(api);
            if (!options.evidence) return; // the person closed the camera
          }
          if (item.odometer) {
            const km = Number(typed);
            if (!typed || Number.isNaN(km)) { hint(this, '请填写当前里程（公里）'); return; }
            options.quantity = 1;
            options.evidence = { odometer_km: km };
          } else if (item.quantity) {
            const quantity = Number(typed);
            if (!typed || !(quantity > 0)) { hint(this, `请填写数量（${item.unit}）`); return; }
            options.quantity = quantity;
          }
          const answer = await api.checkin(item.code, options);
          let result = `${item.name}：+${answer.entry.points} 积分，减排 ${carbon(answer.entry.carbon_g)}`;
          if (answer.entry.kind === 'held') result = `${item.name}：已记录，审核通过后计入积分`;
          if (answer.verification && !answer.verification.verified) result = answer.verification.message;
          const done = item.done + 1;
          const index = this.data.items.findIndex((b) => b.code === item.code);
          this.setData({ result, [`items[${index}].done`]: done, [`items[${index}].full`]: item.dailyLimit > 0 && done >= item.dailyLimit,
            [`items[${index}].limit`]: limitText(item.dailyLimit, done) });
          wx.showToast({ title: '打卡成功', icon: 'success' });
        }, { key: 'sending' });
      } finally {
        this.setData({ busy: '' });
      }
    },
  },
});
