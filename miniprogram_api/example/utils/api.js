// The one API client of the mini program (api/client.js, a copy of miniprogram_api/client.js) and the
// platform it draws itself from (GET /v1/platform, read once).
import { createClient } from '../api/client.js';
import config from '../config.js';

let client = null;
let platformOnce = null;

/** The client, made on first use with the global `wx` (tests replace `wx` before the first call). */
export function api() {
  if (!client) client = createClient({ baseUrl: config.baseUrl, platform: config.platform || undefined });
  return client;
}

/** GET /v1/platform once: {id, name, branding, behaviors, partners, subscribe_templates}. */
export function platform() {
  if (!platformOnce) platformOnce = api().platform().catch((error) => { platformOnce = null; throw error; });
  return platformOnce;
}

/** For tests: forget the client and the platform (a new base URL or a new fake wx). */
export function reset(options) {
  if (options) Object.assign(config, options);
  client = null;
  platformOnce = null;
}
