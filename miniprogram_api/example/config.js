// Where this mini program finds the API. `make run` serves it on http://127.0.0.1:8000: in WeChat DevTools
// tick 详情 -> 本地设置 -> "不校验合法域名、web-view（业务域名）、TLS 版本以及 HTTPS 证书" to call it.
// On a phone (real-device debugging) use the computer's LAN address instead, e.g. http://192.168.1.20:8000.
// `platform`: the platform id of this mini program (docs/platforms.md); '' is `default`.
export default {
  baseUrl: 'http://127.0.0.1:8000',
  platform: '',
};
