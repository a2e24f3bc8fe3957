// Where this mini program finds the API, and who it logs in as locally.
//
// `make run` serves the API on http://127.0.0.1:8000: in WeChat DevTools tick 详情 -> 本地设置 ->
// "不校验合法域名、web-view（业务域名）、TLS 版本以及 HTTPS 证书" to call it over plain HTTP. On a phone
// (真机调试) use the computer's LAN address instead, e.g. http://192.168.1.20:8000.
//
// `devOpenid`: `make run` talks to a fake WeChat that knows no real login code; with an openid here, wx.login
// answers the fake's code for it (`wx:<openid>:<nonce>`): 'o-demo' is the demo user, 'o-staff-1' the café's staff,
// 'o-staff-2' the collection point's (admin/demo_catalog.json). Set it to '' in a mini program with a real AppID.
// `platform`: the platform id of this mini program (docs/platforms.md); '' is `default`, 'company-demo' the demo's
// second platform (then devOpenid logs in as `<openid>@wx-demo-company`).
export default {
  baseUrl: 'http://127.0.0.1:8000',
  platform: '',
  devOpenid: 'o-demo',
};
