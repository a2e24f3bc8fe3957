// The reference GreenSprout mini program. Every call goes through api/client.js (utils/api.js): it logs in by
// itself (wx.login -> POST /v1/auth/login) and logs in again once, transparently, when a call answers 401.
import { api, platform } from './utils/api.js';

App({
  onLaunch() {
    // Draw the platform's colours as soon as they are known; a page that needs them awaits platform() itself.
    platform().then((found) => {
      if (found.branding && found.branding.primary_color) {
        wx.setNavigationBarColor({ frontColor: '#ffffff', backgroundColor: found.branding.primary_color });
      }
    }).catch(() => {});
    api();
  },
});
