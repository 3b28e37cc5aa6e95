// tests/e2e/report_test.mjs: the replay HTML report in a real browser (Debian's chromium via
// playwright-core, as dashboard_test.mjs). Replays the built-in stream with explanations, opens
// the report from the file system with every network request refused, and checks what a
// reader sees: both models' ROC and precision-recall curves drawn, drift markers on the AUC
// chart, the threshold tables, the score distributions, the top alerts with their features.
// Keeps a screenshot in <out>/report.png (report-failure.png when a check fails).
//
//   node tests/e2e/report_test.mjs --sluice build/tools/sluice --out build/report \
//       [--node-modules DIR]
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';

class Failure extends Error {}
const fail = (message) => { throw new Failure(message); };

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i + 1 < argv.length; i += 2) args[argv[i].replace(/^--/, '').replace('-', '_')] = argv[i + 1];
  if (!args.sluice || !args.out) fail('usage: report_test.mjs --sluice PATH --out DIR [--node-modules DIR]');
  return args;
}

function loadPlaywright(dir) {
  const candidates = dir ? [dir] : (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean);
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'playwright-core', 'package.json')));
  if (!found) fail('playwright-core not found: run scripts/browser-deps.sh and pass the directory it prints');
  return createRequire(import.meta.url)(path.join(found, 'playwright-core'));
}

// How many elements match `selector` and have a drawn (non-empty) box.
async function visible(page, selector) {
  return page.locator(selector).evaluateAll((els) => els.filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 || box.height > 0;
  }).length);
}

async function check(page, report, checked) {
  const external = [];
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith('file:')) return route.continue();
    external.push(route.request().url());
    return route.abort();
  });
  await page.goto('file://' + report, {waitUntil: 'load'});
  if (external.length > 0) fail(`the report asked for ${external.join(', ')}: not self-contained`);
  checked.push('no request leaves the file');
  for (const [selector, least, what] of [
    ['path.curve[data-model="anomaly"]', 2, 'anomaly ROC and precision-recall curves'],
    ['path.curve[data-model="fraud"]', 2, 'fraud ROC and precision-recall curves'],
    ['g.marker[data-kind="drift"]', 1, 'drift markers on the AUC chart'],
    ['table.thresholds tr[data-model]', 10, 'threshold table rows'],
    ['table.top tr td.why', 20, 'top alerts with their explanation'],
  ]) {
    const n = await visible(page, selector);
    if (n < least) fail(`${what}: ${n} drawn (${selector}), expected at least ${least}`);
    checked.push(`${what}: ${n}`);
  }
  const why = await page.locator('table.top tr td.why').first().textContent();
  if (!/V\d+ \d/.test(why)) fail(`the first top alert's explanation names no feature: "${why}"`);
  checked.push(`the first top alert is explained: "${why.trim().slice(0, 60)}..."`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, {recursive: true});
  const report = path.resolve(args.out, 'report.html');
  execFileSync(args.sluice, ['replay', '--rows', '30000', '--explain', '3', '--quiet',
                             '--report', report], {stdio: 'inherit'});
  const {chromium} = loadPlaywright(args.node_modules);
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', headless: true,
                                         args: ['--no-sandbox']});
  const page = await browser.newPage({viewport: {width: 1280, height: 900}});
  const checked = [];
  try {
    await check(page, report, checked);
    const shot = path.join(args.out, 'report.png');
    await page.screenshot({path: shot, fullPage: true});
    checked.push(`screenshot kept in ${shot}`);
    for (const line of checked) console.log('report_test: ' + line);
    console.log('report_test: PASS');
  } catch (e) {
    await page.screenshot({path: path.join(args.out, 'report-failure.png'), fullPage: true})
        .catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error('report_test: FAIL: ' + (e instanceof Failure ? e.message : e.stack));
  process.exit(1);
});
