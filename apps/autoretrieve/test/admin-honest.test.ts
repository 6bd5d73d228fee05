import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createAdminApp } from '@autoretrieve/admin'
import { createBlockCache } from '@autoretrieve/blockcache'
import { loadConfig } from '@autoretrieve/config'
import { isCidDenied } from '@autoretrieve/policy'
import { createStore } from '@autoretrieve/store'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { importCar } from '../src/car-import.ts'
import { createPolicyService } from '../src/policy-service.ts'
import { cliEnv, runCli, tempDataDir } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

const TOKEN = 'test-token'
const rawCid = async (text: string) => CID.createV1(raw.code, await sha256.digest(Buffer.from(text))).toString()
const CID_A = await rawCid('admin honest a')
/** Denied in config.yaml; as CIDv0 (a dag-pb sha2-256 CID) so a removal by its CIDv1 is tested too. */
const CID_B = CID.createV0(await sha256.digest(Buffer.from('admin honest b'))).toString()
const PEER = '12D3KooWDFhtmVwexwq3Ttb2zpeRTkboaQwZcTTDvewj59ThkrYS'

/** The admin app as the node wires it, on PGlite, with reload reading config.yaml from `dataDir`. */
async function setup(t: After) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ar-admin-honest-'))
  t.after(() => rm(dataDir, { recursive: true, force: true }))
  await writeFile(join(dataDir, 'config.yaml'), `miner-blacklist:\n  - f01\ncid-blacklist:\n  - ${CID_B}\n`)
  const { config } = await loadConfig({ flags: { dataDir }, env: {}, createIfMissing: false })
  const store = await createStore({})
  t.after(() => store.close())
  const policy = await createPolicyService({ store }, config)
  await policy.start()
  const app = createAdminApp(
    {
      policy: {
        current: () => policy.current(),
        apply: (c, m) => policy.apply(c, m),
        // As node.ts: read the file first; a bad one throws before anything changes.
        reload: async () =>
          policy.reload((await loadConfig({ flags: { dataDir }, env: {}, createIfMissing: false })).config)
      },
      retrievals: {
        history: store.retrievals,
        now: {
          isDenied: (cid) => isCidDenied(policy.current(), CID.parse(cid)),
          isCached: async () => false,
          policyVersion: () => policy.current().version
        }
      }
    },
    { token: () => TOKEN }
  )
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {})
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    })
    return {
      status: res.status,
      body: (await res.json()) as { version?: number; error?: { code: string; message: string } }
    }
  }
  return { dataDir, store, policy, call }
}

test('a NUL byte in a body or a query is a 400 naming where, and nothing is stored', async (t) => {
  const { call, policy } = await setup(t)
  const v = policy.current().version
  const inReason = await call('POST', '/api/v1/blacklist/cids', { cid: CID_A, reason: 'dmca\u0000' })
  assert.equal(inReason.status, 400)
  assert.equal(inReason.body.error?.code, 'ERR_INVALID_INPUT')
  assert.match(inReason.body.error?.message ?? '', /body\.reason/)
  const inList = await call('POST', '/api/v1/blacklist/miners', { miners: [PEER], reason: '\u0000' })
  assert.equal(inList.status, 400)
  const inQuery = await call('GET', '/api/v1/retrievals?provider=%00x')
  assert.equal(inQuery.status, 400)
  assert.equal(inQuery.body.error?.code, 'ERR_INVALID_INPUT')
  assert.equal(policy.current().version, v, 'no version was made')
})

test('DELETE of a CID, provider or miner config that is not listed is 404 and stores nothing', async (t) => {
  const { call, policy, dataDir } = await setup(t)
  const v = policy.current().version
  for (const path of [
    `/api/v1/blacklist/cids/${CID_A}`,
    `/api/v1/blacklist/miners/${PEER}`,
    '/api/v1/whitelist/miners/f01234',
    '/api/v1/miner-configs/f01234'
  ]) {
    const res = await call('DELETE', path)
    assert.equal(res.status, 404, `${path}: ${JSON.stringify(res.body)}`)
    assert.equal(res.body.error?.code, 'ERR_NOT_FOUND')
  }
  assert.equal(policy.current().version, v)
  // No hidden removal was stored: the CID added to config.yaml later is denied after a reload.
  await writeFile(join(dataDir, 'config.yaml'), `cid-blacklist:\n  - ${CID_A}\n  - ${CID_B}\n`)
  assert.equal((await call('POST', '/api/v1/reload')).status, 200)
  assert.equal(isCidDenied(policy.current(), CID.parse(CID_A)), true)
  // A listed entry (config.yaml's) can still be removed, by either CID version.
  const removed = await call('DELETE', `/api/v1/blacklist/cids/${CID.parse(CID_B).toV1()}`)
  assert.equal(removed.status, 200)
  assert.equal(isCidDenied(policy.current(), CID.parse(CID_B)), false)
})

test('concurrent policy changes each answer the version they created', async (t) => {
  const { call, store } = await setup(t)
  const cids = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const f = await createUnixfsFixture({ size: 100, chunkSize: 100, seed: 1400 + i })
      return f.root.toString()
    })
  )
  const answers = await Promise.all(cids.map((cid) => call('POST', '/api/v1/blacklist/cids', { cid })))
  const history = await store.policy.history({ limit: 50 })
  for (const [i, answer] of answers.entries()) {
    assert.equal(answer.status, 201)
    const made = history.find((h) => h.version === answer.body.version)
    assert.ok(
      made?.summary.includes(cids[i]),
      `version ${answer.body.version} answered for ${cids[i]}: ${made?.summary}`
    )
  }
})

test('POST /api/v1/reload with an invalid config.yaml is a 400 with file:line, and the policy stays as it was', async (t) => {
  const { call, policy, dataDir } = await setup(t)
  const before = policy.current()
  await writeFile(join(dataDir, 'config.yaml'), 'cid-blacklist:\n  - not-a-cid\nmax-bitswap-workers: -3\n')
  const res = await call('POST', '/api/v1/reload')
  assert.equal(res.status, 400)
  assert.equal(res.body.error?.code, 'ERR_CONFIG_INVALID')
  assert.match(res.body.error?.message ?? '', /config\.yaml:\d+/)
  assert.equal(policy.current().version, before.version)
  assert.equal(isCidDenied(policy.current(), CID.parse(CID_B)), true, 'config.yaml’s old list still holds')
})

test('a CAR import skips blocks whose CIDs are denied and says how many', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ar-import-deny-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const cache = createBlockCache({}, { path: dir })
  await cache.start()
  t.after(() => cache.stop())
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 1410 })
  const leaf = fixture.blocks[fixture.blocks.length - 1].cid
  const denied = new Set([leaf.toString()])
  const result = await importCar(
    cache,
    (async function* () {
      yield fixture.car
    })(),
    { isDenied: (cid) => denied.has(cid.toString()) }
  )
  assert.equal(result.denied, 1)
  assert.equal(result.added, fixture.blocks.length - 1)
  assert.equal(await cache.has(leaf), false)
  assert.equal(await cache.has(fixture.root), true)
})

test('`cache import` without a node applies the deny list; with a node that does not answer, it names the node’s admin URL', async (t) => {
  const dataDir = await tempDataDir(t)
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 1411 })
  const leaf = fixture.blocks[fixture.blocks.length - 1].cid
  const car = join(dataDir, '..', 'in.car')
  await writeFile(car, fixture.car)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), `cid-blacklist:\n  - ${leaf}\n`)
  const direct = await runCli(['--data-dir', dataDir, 'cache', 'import', car], cliEnv(), 60_000)
  assert.equal(direct.code, 0, direct.stderr)
  const out = JSON.parse(direct.stdout)
  assert.deepEqual([out.via, out.denied, out.added], ['direct', 1, fixture.blocks.length - 1])

  // A runtime file naming a live process (this one) and an admin URL where nothing listens.
  const port = await closedPort()
  const adminUrl = `http://127.0.0.1:${port}`
  await writeFile(
    join(dataDir, 'node.json'),
    JSON.stringify({ pid: process.pid, adminUrl, peerId: PEER, multiaddrs: [], startedAt: new Date().toISOString() })
  )
  const handedOff = await runCli(['--data-dir', dataDir, 'cache', 'import', car], cliEnv(), 60_000)
  assert.notEqual(handedOff.code, 0)
  assert.ok(handedOff.stderr.includes(adminUrl), handedOff.stderr)
})

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
