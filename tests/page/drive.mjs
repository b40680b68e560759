// Drives the page of `tconv explain --html` in headless Chromium (Debian's /usr/bin/chromium,
// through playwright-core) as a learner drives it, and reports what the page shows; the
// checks are the caller's (tests/explain_page.py, scripts/matrix-view-doc.py).
//
//   node drive.mjs <page.html> <scenario.json> <result.json> [<screenshot dir>]
//
// The scenario is a list of steps; each may
//   set:    [[control id, value], ...]   typed into <input>s, chosen in <select>s, in order
//   click:  a CSS selector (e.g. a column of the GEMM route's buffer)
//   expect: "redraw" (the page redraws) or "refuse" (the library's message appears)
//   shot:   {file, selector?} a PNG of the viewport, scrolled to the selector, or
//           {file, element} a PNG of that element alone
//   size:   [width, height] of the viewport from this step on
// After each step the result records what the page shows: the command line it drew
// (data-args) and the one it tried last (data-tried), the geometry line, the message,
// whether the picture is marked stale, the entries of C and Cᵀ as their hover titles, the
// marked cells of the GEMM route, and every control with its name and label. It
// also records every console message, page error and request that is not the page itself,
// the page's own status, and how long each redraw took.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [pagePath, scenarioPath, resultPath, shotDir] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioPath, 'utf8'));
const profile = fs.mkdtempSync('/tmp/tconv-page-profile-');
const result = { console: [], errors: [], requests: [], steps: [] };

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1200, height: 1400 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => result.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => result.errors.push(e.message));
  const url = pathToFileURL(path.resolve(pagePath)).href;
  page.on('request', (r) => { if (!r.url().startsWith(url)) { result.requests.push(r.url()); } });
  // #selftest: every redraw shows each step of every stepper once
  await page.goto(url + '#selftest');
  await page.waitForFunction(() => document.body.dataset.status !== 'loading', null,
                             { timeout: 30000 });
  result.status_at_start = await page.evaluate(() => document.body.dataset.status);

  for (const step of scenario) {
    if (step.size) {
      await page.setViewportSize({ width: step.size[0], height: step.size[1] });
    }
    const before = await page.evaluate(() => Number(document.getElementById('view')
      .getAttribute('data-renders') || 0));
    const started = Date.now();
    for (const [id, value] of step.set || []) {
      const tag = await page.evaluate((i) => document.getElementById(i).tagName, id);
      if (tag === 'SELECT') {
        await page.selectOption('#' + id, String(value));
      } else {
        await page.fill('#' + id, String(value));
      }
    }
    if (step.expect === 'redraw') {
      await page.waitForFunction((n) => Number(document.getElementById('view')
        .getAttribute('data-renders') || 0) > n, before, { timeout: 30000 });
    } else if (step.expect === 'refuse') {
      await page.waitForFunction(() => !document.getElementById('message').hidden, null,
                                 { timeout: 30000 });
    }
    const elapsed = Date.now() - started;
    if (step.click) {
      await page.click(step.click);
    }
    const seen = await page.evaluate(() => {
      const entries = (sel) => Array.from(document.querySelectorAll(sel + ' rect > title'))
        .map((t) => t.textContent);
      const marked = (cls) => Array.from(document.querySelectorAll('#m0r .' + cls))
        .map((e) => e.id);
      const view = document.getElementById('view');
      const route = document.getElementById('m0r');
      return {
        args: view.getAttribute('data-args'),
        tried: view.getAttribute('data-tried'),
        renders: Number(view.getAttribute('data-renders') || 0),
        drawn: document.getElementById('drawn').textContent,
        message: document.getElementById('message').textContent,
        message_shown: !document.getElementById('message').hidden,
        stale: view.classList.contains('stale'),
        status: document.body.dataset.status,
        C: entries('#m0-C'),
        Ct: entries('#m0-Ct'),
        route: route ? {
          step: route.querySelector('.step').textContent,
          caption: route.querySelector('.cap').textContent,
          sel: marked('sel'), src: marked('src'), hit: marked('hit'), dst: marked('dst'),
          bands: marked('col'),
          marks: Array.from(route.querySelectorAll('text.mark'))
            .filter((t) => t.textContent).map((t) => [t.id, t.textContent]),
        } : null,
        controls: Array.from(document.querySelectorAll('#controls input, #controls select'))
          .map((c) => {
            const label = document.querySelector(`label[for="${c.id}"]`);
            return { id: c.id, name: c.name, disabled: c.disabled,
                     label: label ? label.textContent : c.getAttribute('aria-label') };
          }),
      };
    });
    seen.name = step.name;
    seen.ms = elapsed;
    if (step.shot && shotDir) {
      const file = path.join(shotDir, step.shot.file);
      if (step.shot.element) {
        await page.locator(step.shot.element).screenshot({ path: file });
      } else {
        if (step.shot.selector) {
          await page.evaluate((s) => document.querySelector(s).scrollIntoView(),
                              step.shot.selector);
        } else {
          await page.evaluate(() => window.scrollTo(0, 0));
        }
        await page.screenshot({ path: file });
      }
      seen.shot = file;
    }
    result.steps.push(seen);
  }
  result.status_at_end = await page.evaluate(() => document.body.dataset.status);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
fs.writeFileSync(resultPath, JSON.stringify(result, null, 1));
