import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, irisSamples, REPO_ROOT, SETOSA, startApi, startStack, TEST_TOKENS, type Stack } from './helpers/harness';

// The /ui page in a real browser (Debian's chromium driven by playwright-core): it loads with
// no console errors under its CSP, a job submitted through the API appears on it, and a
// rollback clicked on it changes what /predict serves. The screenshots of the README's
// section are taken here, so they show what the test saw.

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'docs', 'screenshots');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`ui.test: ${CHROMIUM} is missing (apt-get install chromium): the /ui browser test is skipped`);
const maybe = hasChromium ? describe : describe.skip;

const samples = irisSamples();
const rows = (n: number, offset: number) => Array.from({ length: n }, (_, i) => samples[(offset + i * 7) % samples.length] as (typeof samples)[number]);

maybe('/ui in a browser', () => {
  let s: Stack;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    s = await startStack();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Console errors include CSP violations and failed loads: the page must produce none.
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  const served = async () => (await s.api.client.post('/predict', { json: SETOSA })).body.model_version as string;
  // The README's screenshots are rewritten only on request (UI_SCREENSHOTS=1), so a test run leaves the checkout clean.
  const shot = async (name: string): Promise<void> => {
    if (process.env.UI_SCREENSHOTS === '1') await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  it('serves its files open to anyone, under a CSP that allows scripts from itself only', async () => {
    const anon = s.api.client.as(null);
    for (const path of ['/ui', '/ui/', '/ui/app.js', '/ui/style.css', '/ui/vendor/uplot.iife.min.js', '/ui/vendor/uPlot.min.css']) {
      const res = await anon.get(path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    expect((await anon.get('/ui/../package.json')).status).toBe(404);
    expect((await anon.get('/ui/vendor/uPlot.cjs.js')).status).toBe(404);
  });

  it('says reads need a token, then with the admin token shows the models; a job submitted through the API appears; a rollback from it takes effect on /predict', async () => {
    await page.goto(`${s.api.client.baseUrl}/ui`);
    await page.getByText('Reads need a token').waitFor({ timeout: 15_000 });
    // Without a token the page's probe of GET /models is refused, and chromium logs every
    // refused fetch: those 401s are the only errors allowed, and only before the token.
    expect(consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    consoleErrors.length = 0;

    await page.fill('#token', TEST_TOKENS.admin);
    await page.click('#token-form button[type=submit]');
    await page.locator('#models tr[data-model="iris"]').waitFor({ timeout: 15_000 });
    await page.getByText('Admin token: rollbacks enabled.').waitFor({ timeout: 15_000 });
    const boot = await served();
    expect(boot).toMatch(/^v1\.0-/);

    // A training job through the API (not the page): the page picks it up on its own poll.
    const job = await s.api.client.post('/train', { json: { samples: rows(30, 0) }, headers: { prefer: 'wait=30' } });
    expect(job.body).toMatchObject({ state: 'completed', result: { status: 'activated' } });
    const v2 = job.body.result.model_version as string;
    await eventually(async () => (await served()) === v2, 15_000, 'v2 served');
    await page.locator(`#attempts tr[data-job="${job.body.job_id}"]`).waitFor({ state: 'attached', timeout: 15_000 });
    await page.locator(`#activations tr[data-version="${v2}"]`).waitFor({ timeout: 15_000 });
    await page.locator(`#models tr[data-model="iris"]`, { hasText: v2 }).waitFor({ timeout: 15_000 });
    await page.locator(`#jobs tr[data-job="${job.body.job_id}"]`).waitFor({ state: 'attached', timeout: 15_000 });

    // Some traffic and feedback, so the quality and drift views have something to show.
    const predicted = await s.api.client.post('/predict', { json: { records: rows(40, 3).map(({ label: _l, ...x }) => x) } });
    const items = predicted.body.predictions.map((p: { prediction_id: string }, i: number) => ({ prediction_id: p.prediction_id, label: (rows(40, 3)[i] as (typeof samples)[number]).label }));
    await eventually(async () => ((b) => (b?.recorded ?? 0) + (b?.replaced ?? 0) === items.length)((await s.api.client.post('/models/iris/feedback', { json: { items } })).body), 10_000, 'feedback recorded');

    await shot('timeline');
    await page.click('.tabs button[data-view="attempts"]');
    await shot('attempts');

    // Roll back to the bootstrap version with the page's button.
    await page.click('.tabs button[data-view="timeline"]');
    await page.locator(`#activations tr[data-version="${boot}"] button.rollback`).click();
    await eventually(async () => (await served()) === boot, 20_000, 'rolled-back version served on /predict');
    const last = (await s.api.client.get('/models/iris/history?limit=1')).body.entries[0];
    expect(last).toMatchObject({ source: 'rollback', version: boot, requested_by: { name: 'env-admin', role: 'admin' } });
    // Who did what: the rollback's period names the admin token.
    await page.locator(`#activations tr[data-version="${boot}"]`, { hasText: 'env-admin' }).first().waitFor({ timeout: 15_000 });

    await page.click('.tabs button[data-view="charts"]');
    await page.locator('#chart-quality .uplot').waitFor({ timeout: 15_000 });
    await page.locator('#chart-gate .uplot').waitFor({ timeout: 15_000 });
    // The drift chart reads the history the trainer records once a minute, subscribers or not (there are none here).
    await page.locator('#chart-drift .uplot').waitFor({ timeout: 15_000 });
    await page.locator('#drift tbody tr').first().waitFor({ timeout: 15_000 });
    await shot('charts');

    await page.click('.tabs button[data-view="queue"]');
    await page.locator('#jobs tr', { hasText: 'rollback' }).first().waitFor({ timeout: 15_000 });
    await shot('queue');

    await page.click('.tabs button[data-view="runs"]');
    await page.locator('#runs input[type=checkbox]').nth(0).check();
    await page.locator('#runs input[type=checkbox]').nth(1).check();
    await page.click('#compare');
    await page.locator('#compare-metrics tbody tr').first().waitFor({ timeout: 15_000 });
    await shot('runs');

    expect(consoleErrors).toEqual([]);
  }, 120_000);

  it('with CT_AUTH_READ=open the page shows the models without a token and offers no rollback; its charts show the feedback and drift given before it opened', async () => {
    const open = await startApi({ dataDir: s.dataDir, prefix: s.prefix, pollIntervalMs: 100, predictionLog: false, subscriber: false, security: { open: { predict: 'open', read: 'open' } } });
    try {
      const anon = await browser.newPage();
      anon.on('console', (msg) => {
        if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
      });
      await anon.goto(`${open.client.baseUrl}/ui`);
      await anon.locator('#models tr[data-model="iris"]').waitFor({ timeout: 15_000 });
      await anon.getByText('Read-only: no token.').waitFor({ timeout: 15_000 });
      await anon.locator('#activations tbody tr').first().waitFor({ timeout: 15_000 });
      expect(await anon.locator('button.rollback').count()).toBe(0);
      // The series are the API's: a page opened after the feedback shows it at once.
      await anon.click('.tabs button[data-view="charts"]');
      await anon.locator('#chart-quality .uplot').waitFor({ timeout: 15_000 });
      expect(Number(await anon.locator('#chart-quality').getAttribute('data-points'))).toBeGreaterThan(0);
      await anon.locator('#chart-drift .uplot').waitFor({ timeout: 15_000 });
      expect(Number(await anon.locator('#chart-drift').getAttribute('data-points'))).toBeGreaterThan(0);
      await anon.close();
      expect(consoleErrors).toEqual([]);
    } finally {
      await open.close();
    }
  }, 60_000);
});
