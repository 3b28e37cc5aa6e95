// tests/e2e/dashboard_test.mjs: the dashboard (GET /) in a real browser, against
// `sluice live --demo`. Debian's chromium driven by playwright-core, both installed by
// scripts/browser-deps.sh, which prints the node_modules directory to pass here.
//
//   node tests/e2e/dashboard_test.mjs --sluice build/tools/sluice --out build/e2e \
//       [--node-modules DIR]   (default: the first NODE_PATH entry holding playwright-core)
//
// Checks: the page shows the served version; the AUC chart gains points as it polls, and a
// drift marker when ADWIN finds drifts; the challenger's AUC and the drifts are shown as
// /v1/state has them; the alias switch button moves the served version and the alias history
// shows the move. Keeps
// a screenshot in <out>/dashboard.png (dashboard-failure.png when a check fails).
// Exits 0 when every check passes, 1 with the reason otherwise.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

// The command under test, in one place: adapt it here if a flag changes.
function sluiceArgs(port, tmpdir) {
  return ['live', '--demo', '--http-port', String(port), '--registry', path.join(tmpdir, 'r.db'),
          '--snapshot-every-events', '10000', '--challenger', kChallenger, '--quiet'];
}

const kChallenger = 'logreg:lr=0.05';
const kHealthTimeoutMs = 60_000;
const kLabelsTimeoutMs = 60_000;
const kDriftTimeoutMs = 90_000;
const kServedTimeoutMs = 60_000;
const kVersionsTimeoutMs = 60_000;
const kSwitchTimeoutMs = 10_000;
const kKillGraceMs = 10_000;

class Failure extends Error {}
const fail = (message) => { throw new Failure(message); };
const log = (message) => console.log('dashboard_test: ' + message);

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    if (!['--sluice', '--out', '--node-modules'].includes(name) || i + 1 >= argv.length) {
      fail('usage: dashboard_test.mjs --sluice PATH --out DIR [--node-modules DIR]' +
           ` (bad argument "${name}")`);
    }
    args[name.slice(2).replace('-', '_')] = argv[i + 1];
  }
  if (!args.sluice || !args.out) fail('--sluice and --out are required');
  return args;
}

function loadPlaywright(nodeModules) {
  const candidates = nodeModules ? [nodeModules]
                                 : (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean);
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'playwright-core', 'package.json')));
  if (!dir) {
    fail('playwright-core not found in ' + (candidates.join(', ') || 'NODE_PATH (unset)') +
         ': run scripts/browser-deps.sh and pass the directory it prints');
  }
  return createRequire(import.meta.url)(path.join(dir, 'playwright-core'));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Runs sluice and keeps the tail of its output for failure messages.
function startSluice(binary, args) {
  const child = spawn(binary, args, {stdio: ['ignore', 'pipe', 'pipe']});
  child.output = '';
  const keep = (chunk) => { child.output = (child.output + chunk).slice(-4000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({code, signal}));
    child.on('error', (e) => resolve({code: null, signal: null, error: e}));
  });
  return child;
}

const isRunning = (child) => child.exitCode === null && child.signalCode === null;

async function waitHealthy(child, base) {
  const deadline = Date.now() + kHealthTimeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(child)) {
      const {code, signal, error} = await child.exited;
      fail(`sluice exited before /healthz answered (code ${code}, signal ${signal}` +
           `${error ? ', ' + error.message : ''}):\n${child.output}`);
    }
    try {
      const response = await fetch(base + '/healthz', {signal: AbortSignal.timeout(2000)});
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  fail(`GET /healthz did not answer 200 within ${kHealthTimeoutMs / 1000} s:\n${child.output}`);
}

// SIGTERM, then SIGKILL if it has not exited after kKillGraceMs.
async function stopSluice(child) {
  if (!isRunning(child)) return child.exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), kKillGraceMs);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

const text = (page, selector) => page.locator(selector).textContent().then((t) => t.trim());

async function waitFor(page, what, timeoutMs, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, {timeout: timeoutMs, polling: 100});
  } catch (e) {
    fail(`${what}: not within ${timeoutMs / 1000} s (${e.message.split('\n')[0]})`);
  }
}

async function checkDashboard(page, base, checked) {
  await page.goto(base + '/', {waitUntil: 'load'});

  await waitFor(page, '#served-version shows a version number', kServedTimeoutMs,
                () => /^\d+$/.test(document.getElementById('served-version').textContent.trim()));
  const served = Number(await text(page, '#served-version'));
  checked.push(`the served version is shown (${served})`);

  const points = async () => Number(await page.locator('#auc-chart').getAttribute('data-points'));
  const before = await points();
  await sleep(3000);
  const after = await points();
  if (!(after - before >= 2)) fail(`#auc-chart data-points went ${before} -> ${after} in 3 s`);
  checked.push(`the AUC chart gained points (${before} -> ${after} in 3 s)`);

  // The challenger's row: its AUC once labels came, equal to the state the page last polled.
  await waitFor(page, `#challengers shows ${kChallenger} with an AUC`, kLabelsTimeoutMs, (spec) => {
    const cells = document.querySelectorAll('#challengers tr:first-child td');
    return cells.length === 4 && cells[0].textContent === spec &&
        /^\d\.\d{3}$/.test(cells[2].textContent) && state.challenger_auc[spec] !== null &&
        cells[2].textContent === state.challenger_auc[spec].toFixed(3);
  }, kChallenger);
  const row = await page.locator('#challengers tr:first-child td').allTextContents();
  checked.push(`the challenger's row: ${row.join(' | ')}`);

  // New drifts draw a marker at the poll that saw them; the table lists the last ones.
  await waitFor(page, 'a drift marker on the AUC chart', kDriftTimeoutMs, () =>
    Number(document.getElementById('auc-chart').getAttribute('data-drift-markers')) >= 1);
  await waitFor(page, '#drifts lists /v1/state\'s recent drifts, newest first', 5000, () => {
    const rows = document.querySelectorAll('#drifts tr');
    const recent = state.drifts.recent;
    return recent.length > 0 && rows.length === recent.length &&
        rows[0].cells[3].textContent === recent[recent.length - 1].id;
  });
  const markers = await page.locator('#auc-chart').getAttribute('data-drift-markers');
  const drifts = await page.locator('#drifts tr').count();
  checked.push(`drift markers on the chart (${markers}) and the last ${drifts} drifts listed`);

  await waitFor(page, '#alias-version offers at least 2 versions', kVersionsTimeoutMs,
                () => document.querySelectorAll('#alias-version option').length >= 2);
  const options = await page.locator('#alias-version option').evaluateAll(
      (els) => els.map((el) => Number(el.value)));
  const current = Number(await text(page, '#served-version'));
  // The oldest other version: a served alias that follows the latest would never reach it.
  const chosen = Math.min(...options.filter((v) => v !== current));
  await page.selectOption('#alias-version', String(chosen));
  await page.click('#switch-alias');
  await waitFor(page, `#served-version shows ${chosen} after the switch`, kSwitchTimeoutMs,
                (v) => document.getElementById('served-version').textContent.trim() === v,
                String(chosen));
  const status = await text(page, '#switch-status');
  if (await page.locator('#switch-status.error').count() > 0) fail(`#switch-status: ${status}`);
  checked.push(`the button switched the alias from ${current} to ${chosen} (of ${options.length}` +
               ` versions); status: "${status}"`);

  await waitFor(page, `the alias history's newest row shows version ${chosen}`, kSwitchTimeoutMs,
                (v) => {
                  const cells = document.querySelectorAll('#history tr:first-child td');
                  return cells.length === 4 && cells[1].textContent.trim() === v;
                }, String(chosen));
  checked.push(`the alias history shows the switch`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const {chromium} = loadPlaywright(args.node_modules);
  fs.mkdirSync(args.out, {recursive: true});
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dashboard-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const command = sluiceArgs(port, tmpdir);
  log(`starting ${args.sluice} ${command.join(' ')}`);
  const sluice = startSluice(args.sluice, command);
  const onSignal = () => { sluice.kill('SIGKILL'); process.exit(1); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let browser = null;
  let page = null;
  const checked = [];
  try {
    await waitHealthy(sluice, base);
    checked.push('GET /healthz answered 200');
    browser = await chromium.launch({executablePath: '/usr/bin/chromium', headless: true,
                                     args: ['--no-sandbox']});
    page = await browser.newPage({viewport: {width: 1280, height: 900}});
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await checkDashboard(page, base, checked);
    if (pageErrors.length > 0) fail('the page threw: ' + pageErrors.join('; '));
    checked.push('the page threw no error');
    const shot = path.join(args.out, 'dashboard.png');
    await page.screenshot({path: shot, fullPage: true});
    checked.push(`screenshot kept in ${shot}`);
  } catch (e) {
    if (page) {
      await page.screenshot({path: path.join(args.out, 'dashboard-failure.png'), fullPage: true})
          .catch(() => {});
    }
    throw e;
  } finally {
    for (const line of checked) log('ok: ' + line);
    if (browser) await browser.close().catch(() => {});
    const {code, signal} = await stopSluice(sluice);
    log(`sluice stopped (exit code ${code}, signal ${signal})`);
    fs.rmSync(tmpdir, {recursive: true, force: true});
  }
  log('PASS');
}

main().catch((e) => {
  console.error('dashboard_test: FAIL: ' + (e instanceof Failure ? e.message : e.stack));
  process.exit(1);
});
