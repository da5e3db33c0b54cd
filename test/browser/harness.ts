/**
 * What the browser journeys share: Debian's Chromium through playwright-core
 * (never a downloaded browser), screenshots of every page for a person to look
 * at, and the few checks that playwright-core has no `expect` for.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const WEB_ROOT = path.resolve('web/dist');
export const SCREENSHOTS = path.resolve('test-artifacts/screenshots');
export const SESSION_COOKIE = 'jams_session';

const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium from the Debian package, with everything that phones home turned off. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `Debian's Chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
  assert.ok(
    existsSync(path.join(WEB_ROOT, 'index.html')),
    'web/dist is not built: run `npm run test:browser`, which builds it first',
  );
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * Browser contexts (one per person) that report every uncaught page error and
 * console error, so a page that crashes quietly still fails the run. Failed
 * resource loads are left out: refusals such as 401 and 409 are expected.
 */
export class People {
  readonly problems: string[] = [];
  readonly #contexts: BrowserContext[] = [];
  readonly #browser: Browser;

  constructor(browser: Browser) {
    this.#browser = browser;
  }

  async context(who: string, options: BrowserContextOptions = {}): Promise<BrowserContext> {
    const context = await this.#browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', ...options });
    // A step that waits this long has failed; don't let one failure stall the run for minutes.
    context.setDefaultTimeout(10_000);
    context.on('page', (page) => this.#watch(who, page));
    this.#contexts.push(context);
    return context;
  }

  async page(who: string, options: BrowserContextOptions = {}): Promise<Page> {
    return (await this.context(who, options)).newPage();
  }

  #watch(who: string, page: Page): void {
    page.on('pageerror', (error) => this.problems.push(`${who}: uncaught ${error.message} at ${page.url()}`));
    page.on('console', (message) => {
      if (message.type() !== 'error' || message.text().startsWith('Failed to load resource')) return;
      this.problems.push(`${who}: console error "${message.text()}" at ${page.url()}`);
    });
  }

  async close(): Promise<void> {
    for (const context of this.#contexts) await context.close().catch(() => {});
  }
}

let shots = 0;

/** Starts a fresh screenshot folder for this run. */
export function resetScreenshots(): void {
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  shots = 0;
}

/**
 * A full-page screenshot, numbered in journey order. Every page must also fit
 * its viewport's width: a page that scrolls sideways is broken.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  // Let web fonts, focus rings and transitions settle.
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(150);
  const file = path.join(SCREENSHOTS, `${String(++shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await assertNoSidewaysScroll(page);
}

/** The page is no wider than the viewport it was opened in (a phone's layout viewport stretches, so not `innerWidth`). */
export async function assertNoSidewaysScroll(page: Page): Promise<void> {
  const width = page.viewportSize()!.width;
  const scrollWidth = await page.evaluate(() => document.scrollingElement!.scrollWidth);
  assert.ok(scrollWidth <= width, `${page.url()} scrolls sideways: ${scrollWidth}px wide in a ${width}px viewport`);
}

/** What has the keyboard focus: its role-ish tag and its accessible-ish name. */
export function focused(page: Page): Promise<{ tag: string; type: string | null; name: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { tag: '', type: null, name: '' };
    const input = el as HTMLInputElement;
    const label = input.labels?.[0]?.textContent ?? '';
    return { tag: el.tagName.toLowerCase(), type: el.getAttribute('type'), name: (label || el.textContent || '').trim() };
  });
}

/** The session cookie as the browser holds it (HttpOnly, so never visible to page scripts). */
export async function sessionCookie(context: BrowserContext, url: string) {
  return (await context.cookies(url)).find((cookie) => cookie.name === SESSION_COOKIE);
}

/** `GET /api/me` with the context's cookies: who the server thinks this browser is. */
export async function me(page: Page, publicUrl: string): Promise<{ status: number; body: any }> {
  const response = await page.request.get(`${publicUrl}/api/me`);
  return { status: response.status(), body: await response.json() };
}

/** Waits until `probe` returns a truthy value; fails with `what` after `timeout` ms. */
export async function eventually<T>(what: string, probe: () => Promise<T>, timeout = 5000): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
