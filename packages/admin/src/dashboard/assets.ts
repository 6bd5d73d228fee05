import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Hono } from 'hono'
import type { AppEnv } from '../env.ts'

/** The mark: a block with an arrow coming back, in the console's colours. Also the favicon. */
export const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32">' +
  '<rect x="2" y="2" width="28" height="28" rx="7" fill="#1f6feb"/>' +
  '<path d="M9 17a7 7 0 1 0 3-5.7" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/>' +
  '<path d="M8 7v6h6" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>' +
  '</svg>'

const require = createRequire(import.meta.url)

/**
 * The console's static files: its own script and style beside this file, uPlot's from
 * node_modules (no CDN, no bundler). Read once, on first request, and kept: they change only
 * with the installed package.
 */
const FILES: Record<string, { path: () => string; type: string }> = {
  'console.js': { path: () => new URL('./console.js', import.meta.url).pathname, type: 'text/javascript' },
  'console.css': { path: () => new URL('./console.css', import.meta.url).pathname, type: 'text/css' },
  'uplot.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  'uplot.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' }
}

export function consoleAssetRoutes() {
  const app = new Hono<AppEnv>()
  const loaded = new Map<string, string>()
  app.get('/console/:file', (c) => {
    const name = c.req.param('file')
    const file = FILES[name]
    if (file === undefined) return c.notFound()
    let body = loaded.get(name)
    if (body === undefined) {
      body = readFileSync(file.path(), 'utf8')
      loaded.set(name, body)
    }
    return c.body(body, 200, { 'Content-Type': `${file.type}; charset=utf-8`, 'Cache-Control': 'no-cache' })
  })
  const icon = (c: { body: (b: string, s: 200, h: Record<string, string>) => Response }) =>
    c.body(LOGO_SVG, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'max-age=86400' })
  app.get('/favicon.svg', (c) => icon(c))
  app.get('/favicon.ico', (c) => icon(c))
  return app
}
