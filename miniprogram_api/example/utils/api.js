// The one API client of the mini program (api/client.js, a copy of miniprogram_api/client.js) and the
// platform it draws itself from (GET /v1/platform, read once).
import { createClient } from '../api/client.js';
import config from '../config.js';

let client = null;
let platformOnce = null;
let nonce = 0;

/** The wx the client uses: the real one, or, with config.devOpenid, one whose login answers the fake's code. */
function wxOf() {
  if (!config.devOpenid) return wx;
  return {
    login({ success }) {
      nonce += 1;
      success({ code: `wx:${config.devOpenid}:${Date.now().toString(36)}-${nonce}` });
    },
    // everything else the client calls, on the real wx
    request: (options) => wx.request(options),
    uploadFile: (options) => wx.uploadFile(options),
    getWeRunData: (options) => wx.getWeRunData(options),
    requestSubscribeMessage: (options) => wx.requestSubscribeMessage(options),
    getStorageSync: (key) => wx.getStorageSync(key),
    setStorageSync: (key, value) => wx.setStorageSync(key, value),
    removeStorageSync: (key) => wx.removeStorageSync(key),
  };
}

/** The client, made on first use with the global `wx` (tests replace `wx` before the first call). */
export function api() {
  if (!client) client = createClient({ baseUrl: config.baseUrl, platform: config.platform || undefined, wx: wxOf() });
  return client;
}

/** GET /v1/platform once: {id, name, branding, behaviors, partners, subscribe_templates}. */
export function platform() {
  if (!platformOnce) platformOnce = api().platform().catch((error) => { platformOnce = null; throw error; });
  return platformOnce;
}

/** For tests: other settings (base URL, devOpenid), then a new client and platform on next use. */
export function reset(options) {
  if (options) Object.assign(config, options);
  client = null;
  platformOnce = null;
}
