// What every page does around its API calls: a loading state, the error's Chinese message (ApiError.message,
// from the server's answer or errors.js), pull-to-refresh.
import { api } from './api.js';

/** Show an error as a person reads it: the contract's Chinese message. */
export function showError(error) {
  const message = (error && error.message) || '出了点问题，请稍后重试';
  wx.showToast({ title: message, icon: 'none', duration: 3000 });
  return message;
}

/** A check of the page's own (an empty field): said like an API refusal, nothing sent. */
export function hint(page, message) {
  page.setData({ error: showError({ message }) });
}

/**
 * Run `work` with `data.loading` true; on failure show the message and keep it in `data.error`.
 * Resolves to work's result, or undefined when it failed.
 */
export async function guarded(page, work, { key = 'loading' } = {}) {
  page.setData({ [key]: true, error: '' });
  try {
    return await work(api());
  } catch (error) {
    page.setData({ error: showError(error) });
    return undefined;
  } finally {
    page.setData({ [key]: false });
  }
}

/** A page's pull-to-refresh: reload, then stop the spinner whatever happened. */
export async function refreshed(page) {
  try {
    await page.load();
  } finally {
    wx.stopPullDownRefresh();
  }
}

/** wx.* with callbacks as a Promise (chooseAddress, scanCode, chooseMedia, showModal). */
export function wxAsync(name, args = {}) {
  return new Promise((resolve, reject) => {
    wx[name]({ ...args, success: resolve, fail: reject });
  });
}

/** True when a wx.* failure is the person closing the dialog (not an error to show). */
export function cancelled(failure) {
  return Boolean(failure && /cancel/i.test(failure.errMsg || ''));
}
