import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  createHeliaPeer,
  createUnixfsFixture,
  type Exposition,
  parseExposition,
  sampleValue as value
} from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import { cliEnv, startDaemon, tempDataDir } from './helpers.ts'

const DASHBOARD = new URL('../../../docker/grafana/autoretrieve-dashboard.json', import.meta.url)
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const DS_UID = '${DS_PROMETHEUS}'

/** A metric name, as PromQL selects it. */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'

/** Every series name the exposition can answer a query for: samples, and each family's suffixed series. */
function exposedNames(e: Exposition): Set<string> {
  const names = new Set(e.samples.map((s) => s.name))
  for (const [family, type] of e.types) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix)
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(family + suffix)
    else names.add(family)
  }
  return names
}

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset'])
const PROMQL_KEYWORDS_CI = new Set(['and', 'or', 'unless', 'inf', 'nan'])

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords, labels or variables. */
function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
  const names: string[] = []
  for (const m of stripped.matchAll(new RegExp(NAME, 'g'))) {
    const before = stripped[m.index - 1] ?? ''
    const after = stripped.slice(m.index + m[0].length)
    if (/[0-9.$]/.test(before)) continue // part of a number (1e5) or a $variable
    if (/^\s*\(/.test(after)) continue // a function call
    if (PROMQL_KEYWORDS.has(m[0]) || PROMQL_KEYWORDS_CI.has(m[0].toLowerCase())) continue
    names.push(m[0])
  }
  return names
}

interface Panel {
  id: number
  type: string
  title: string
  datasource?: { type: string; uid: string }
  targets?: Array<{ expr: string; datasource?: { uid: string } }>
  panels?: Panel[]
}

async function loadDashboard() {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'))
  const panels: Panel[] = []
  const walk = (list: Panel[]) => {
    for (const p of list) {
      panels.push(p)
      walk(p.panels ?? [])
    }
  }
  walk(dashboard.panels)
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })))
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query
    const labelValues = /^label_values\((.+),\s*[a-zA-Z_]+\)$/.exec(q ?? '')
    if (labelValues) exprs.push({ panel: `variable ${v.name}`, expr: labelValues[1] })
  }
  return { dashboard, panels, exprs }
}

test('the Grafana dashboard reads the Prometheus data source variable and has a query in every panel', async () => {
  const { dashboard, panels } = await loadDashboard()
  const ds = dashboard.templating.list.find((v: { name: string }) => v.name === 'DS_PROMETHEUS')
  assert.deepEqual([ds?.type, ds?.query], ['datasource', 'prometheus'])
  const ids = panels.map((p) => p.id)
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique')
  for (const p of panels.filter((p) => p.type !== 'row')) {
    assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`)
    assert.equal(p.datasource?.uid, DS_UID, `${p.title} uses the data source variable`)
    for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, DS_UID, p.title)
  }
})

test("every metric the Grafana dashboard queries is on a freshly started node's /metrics", async (t) => {
  const { exprs } = await loadDashboard()
  const node = await startDaemon(t, await tempDataDir(t), cliEnv())
  const res = await fetch(`${node.adminUrl}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  const exposed = exposedNames(parseExposition(await res.text()))

  const used = new Set<string>()
  const missing: string[] = []
  for (const { panel, expr } of exprs) {
    const names = promqlMetricNames(expr)
    assert.ok(names.length > 0, `${panel}: no metric found in ${expr}`)
    for (const name of names) {
      used.add(name)
      if (!exposed.has(name)) missing.push(`${panel}: ${name}`)
    }
  }
  assert.deepEqual(missing, [], 'the dashboard queries metrics the node does not expose')
  // The list: serve path, miss path and ops metrics all have a panel.
  for (const name of [
    'autoretrieve_bitswap_wants_total',
    'autoretrieve_blockstore_cache_hit_total',
    'autoretrieve_bitswap_retriever_request_total',
    'autoretrieve_retrieval_request_total',
    'autoretrieve_retrieval_deal_duration_seconds_bucket',
    'autoretrieve_retrieval_ttfb_seconds_bucket',
    'autoretrieve_sent_bytes_total',
    'autoretrieve_retrieved_bytes_total',
    'autoretrieve_cache_bytes',
    'autoretrieve_cache_prune_threshold_bytes',
    'autoretrieve_connected_peers',
    'autoretrieve_process_resident_memory_bytes',
    'autoretrieve_event_loop_utilization',
    'autoretrieve_process_start_time_seconds',
    'autoretrieve_records_buffered',
    'autoretrieve_records_dropped_total',
    'autoretrieve_heartbeat_state',
    'autoretrieve_heartbeat_total'
  ]) {
    assert.ok(used.has(name), `no panel reads ${name}`)
  }
})

test('after a Helia client fetches from the cache, /metrics parses and shows Bitswap bytes out and a connected peer', async (t) => {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), 'prune-threshold: 1GiB\n')
  const node = await startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' }))
  const fixture = await createUnixfsFixture({ size: 1_000_000, chunkSize: 100_000, seed: 61 })
  const imported = await fetch(`${node.adminUrl}/api/v1/cache/import`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/vnd.ipld.car' },
    body: Buffer.from(fixture.car)
  })
  assert.equal(imported.status, 200)

  const helia = await createHeliaPeer()
  t.after(() => helia.stop())
  await helia.libp2p.dial(multiaddr(node.multiaddrs.find((a) => !a.includes('/ws'))!))
  const parts: Uint8Array[] = []
  for await (const chunk of unixfs(helia).cat(fixture.root, { signal: AbortSignal.timeout(20_000) })) parts.push(chunk)
  assert.deepEqual(Buffer.concat(parts), Buffer.from(fixture.bytes))

  const m = parseExposition(await (await fetch(`${node.adminUrl}/metrics`)).text())
  const sent = value(m, 'autoretrieve_sent_bytes_total', { protocol: 'bitswap' }) ?? 0
  assert.ok(sent >= fixture.bytes.byteLength, `bitswap bytes out ${sent} < ${fixture.bytes.byteLength}`)
  assert.ok((value(m, 'autoretrieve_connected_peers') ?? 0) >= 1)
  const wants = value(m, 'autoretrieve_bitswap_request_total') ?? 0
  assert.ok(wants >= fixture.blocks.length)
  const byType =
    (value(m, 'autoretrieve_bitswap_wants_total', { want_type: 'block' }) ?? 0) +
    (value(m, 'autoretrieve_bitswap_wants_total', { want_type: 'have' }) ?? 0)
  assert.equal(byType, wants, 'wants by type add up to the Go total')
  assert.ok((value(m, 'autoretrieve_blockstore_cache_hit_total') ?? 0) >= fixture.blocks.length)
  assert.ok((value(m, 'autoretrieve_cache_bytes') ?? 0) >= fixture.bytes.byteLength)
  assert.ok(
    (value(m, 'autoretrieve_cache_disk_bytes') ?? 0) > (value(m, 'autoretrieve_cache_bytes') ?? 0),
    'the log on disk holds the blocks and their record headers'
  )
  assert.equal(value(m, 'autoretrieve_cache_prune_threshold_bytes'), 1024 ** 3)
  for (const protocol of ['bitswap', 'graphsync', 'http']) {
    assert.equal(value(m, 'autoretrieve_retrieved_bytes_total', { protocol }), 0, `nothing retrieved over ${protocol}`)
  }
  assert.equal(value(m, 'autoretrieve_records_dropped_total'), 0)
  assert.equal(value(m, 'autoretrieve_records_buffered') !== undefined, true)
  assert.equal(value(m, 'autoretrieve_heartbeat_state', { state: 'disabled' }), 1, 'no Estuary configured')
  assert.equal(value(m, 'autoretrieve_heartbeat_total', { outcome: 'success' }), 0)
  const elu = value(m, 'autoretrieve_event_loop_utilization') ?? -1
  assert.ok(elu >= 0 && elu <= 1, `event-loop utilisation ${elu}`)
  assert.ok((value(m, 'autoretrieve_process_resident_memory_bytes') ?? 0) > 0)
  const started = value(m, 'autoretrieve_process_start_time_seconds') ?? 0
  // A wall-clock time in seconds, not a duration: a process started in this test run (minutes ago at most).
  assert.ok(Math.abs(Date.now() / 1000 - started) < 300, `start time ${started}`)
})
