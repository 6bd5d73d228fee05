import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { missingService } from './helpers.ts'

/** The console tests' browser: Debian's Chromium, headless (see scripts/test.mjs for its install). */
const CHROMIUM = '/usr/bin/chromium'

type After = { after(fn: () => Promise<unknown>): void; skip(message: string): void }

export async function launch(t: After): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    missingService(
      t,
      `${CHROMIUM} is not installed`,
      "Install Debian's chromium (`apt-get install chromium`; `npm test` does it when run as root)"
    )
    return undefined
  }
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--font-render-hinting=none'
      ]
    })
    t.after(() => browser.close())
    return browser
  } catch (err) {
    missingService(
      t,
      `Chromium could not start: ${(err as Error).message.split('\n')[0]}`,
      `Check that ${CHROMIUM} runs headless here`
    )
    return undefined
  }
}

/** Every console error and uncaught exception of a page; `expected` lets a window of known network failures through. */
export function watchErrors(page: Page) {
  const errors: string[] = []
  const state = { expected: null as RegExp | null, let: [] as string[] }
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    if (state.expected?.test(m.text())) state.let.push(m.text())
    else errors.push(`console: ${m.text()}`)
  })
  return { errors, state }
}

/** No text of these elements breaks over two lines: every line box of its text sits at one height. */
export function wrapped(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = []
    const all = document.querySelectorAll('button, th, h1, h2, h3, figcaption, .k, .pill, .hdr-item, .u-legend th')
    for (const e of Array.from(all)) {
      const el = e as HTMLElement
      if (el.offsetParent === null || el.textContent?.trim() === '') continue
      // Each text node's line boxes: two lines are two tops more than half a line apart.
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT)
      const tops: number[] = []
      for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
        if (n.textContent?.trim() === '') continue
        const r = document.createRange()
        r.selectNodeContents(n)
        for (const rect of Array.from(r.getClientRects())) if (rect.width > 0) tops.push(rect.top)
      }
      const lineHeight = Number.parseFloat(getComputedStyle(el).fontSize)
      if (tops.length > 0 && Math.max(...tops) - Math.min(...tops) > lineHeight * 0.6) out.push(el.textContent!.trim())
    }
    return out
  })
}
