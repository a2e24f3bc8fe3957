// WeChat's own compilers (miniprogram-compiler's wcc and wcsc, those of WeChat DevTools) take every page's and
// component's WXML and WXSS: what DevTools would refuse to build fails here first.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = process.env.EXAMPLE_ROOT || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = require(path.join(ROOT, 'app.json'));
const views = [...app.pages, 'components/state/index', 'components/qr-code/index'];

test('wcc compiles the WXML of every page and component', () => {
  const compiler = require('miniprogram-compiler');
  const compiled = compiler.wxmlToJs(ROOT); // throws 编译 .wxml 文件错误 on a mistake
  for (const view of views) assert.ok(compiled.includes(`${view}.wxml`), view);
});

test('wcsc compiles the WXSS of the app, every page and component', () => {
  const wcsc = require('miniprogram-compiler/src/wcsc.js');
  const compiled = wcsc(ROOT, ['app', ...views]);
  assert.ok(!(compiled instanceof Error), String(compiled && compiled.message));
  for (const view of views) assert.ok(compiled[`./${view}.wxss`] || compiled[`${view}.wxss`], `${view}: ${Object.keys(compiled).slice(0, 5)}`);
});
