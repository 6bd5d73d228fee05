import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import {
  adminApi,
  catFile,
  cliEnv,
  type DaemonHandle,
  heliaClient,
  scratchDatabase,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

interface Source {
  version: number
  instance: string
  at: string
  file?: string
}
interface Policy {
  version: number
  instance: string
  cidBlacklist: Array<{ cid: string; origin: string; reason?: string; added?: Source }>
  minerBlacklist: Array<{ provider: string; origin: string; added?: Source }>
  configLayer: { version: number; instance: string; file: string; digest: string } | null
  configDrift: {
    file: string
    stored: { instance: string }
    differences: Array<{ key: string; onlyInFile: string[]; onlyStored: string[] }>
  } | null
  change: { version: number; origin: string; instance: string; summary: string } | null
}
interface Explain {
  policyVersion: number
  instance: string
  deniedNow: boolean
  rule: { list: string; value: string; origin: string; reason?: string; added?: Source } | null
  refusals: Array<{ instance: string; peer: string; reason: string }>
  summary: string[]
}

/** A data dir whose config.yaml names the instance and its policy keys. */
async function dataDirWith(t: Parameters<typeof tempDataDir>[0], yaml: string): Promise<string> {
  const dir = await tempDataDir(t)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await writeFile(join(dir, 'config.yaml'), yaml, { mode: 0o600 })
  return dir
}

const policyOf = async (n: DaemonHandle) => (await adminApi<Policy>(n, 'GET', '/api/v1/policy')).body
const explainOn = async (n: DaemonHandle, cid: string) => {
  const r = await adminApi<Explain>(n, 'GET', `/api/v1/cids/${cid}/explain`)
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return r.body
}
const denied = (p: Policy) => p.cidBlacklist.map((e) => e.cid).sort()

/** The first `policy` event at or above `version` on a node's event stream (bounded in time). */
async function policyEvent(node: DaemonHandle, version: number, timeoutMs = 15_000) {
  const res = await fetch(`${node.adminUrl}/api/v1/stats/stream`, {
    headers: { Authorization: `Bearer ${node.token}` },
    signal: AbortSignal.timeout(timeoutMs)
  })
  assert.equal(res.status, 200)
  const decoder = new TextDecoder()
  let text = ''
  const reader = res.body!.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
      for (const block of text.split('\n\n').slice(0, -1)) {
        if (!block.includes('event: policy')) continue
        const data = JSON.parse(
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6)
        ) as Policy
        if (data.version >= version) return data
      }
      text = text.slice(text.lastIndexOf('\n\n') + 2)
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  throw new Error(`the stream ended before a policy event at version ${version}`)
}

test('two instances with different config.yaml files on one PostgreSQL enforce the same lists at the same version; a reload moves both', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const env = cliEnv({ AUTORETRIEVE_DATABASE_URL: databaseUrl, AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' })
  const [x, y] = await Promise.all([
    createUnixfsFixture({ size: 1000, chunkSize: 1000, seed: 181 }),
    createUnixfsFixture({ size: 1000, chunkSize: 1000, seed: 182 })
  ])
  const X = x.root.toString()
  const Y = y.root.toString()

  const dirA = await dataDirWith(t, `instance-name: edge-a\ncid-blacklist: [${X}]\n`)
  const dirB = await dataDirWith(t, `instance-name: edge-b\ncid-blacklist: [${Y}]\nminer-blacklist: [f0999]\n`)
  const a = await startDaemon(t, dirA, env)
  const b = await startDaemon(t, dirB, env)

  // B started second with a different file: it enforces the stored layer (A's), at A's version,
  // and says how its own file differs, in the API and in its log.
  const [pa, pb] = [await policyOf(a), await policyOf(b)]
  assert.equal(pb.version, pa.version, 'the second start made no new version')
  assert.deepEqual([denied(pa), denied(pb)], [[X], [X]])
  assert.deepEqual([pa.minerBlacklist, pb.minerBlacklist], [[], []])
  assert.deepEqual([pb.configLayer?.instance, pb.configLayer?.file], ['edge-a', join(dirA, 'config.yaml')])
  assert.equal(pa.configDrift, null)
  assert.equal(pb.configDrift?.stored.instance, 'edge-a')
  assert.deepEqual(
    pb.configDrift?.differences.map((d) => [d.key, d.onlyInFile, d.onlyStored]),
    [
      ['cid-blacklist', [Y], [X]],
      ['miner-blacklist', ['f0999'], []]
    ]
  )
  assert.match(b.stderr(), /config\.yaml differs from the policy layer stored by instance \\"edge-a\\"/)
  assert.deepEqual([pa.instance, pb.instance], ['edge-a', 'edge-b'])

  // Explain agrees on both and names the rule: the config entry, from A's file, at its version.
  for (const [node, name] of [
    [a, 'edge-a'],
    [b, 'edge-b']
  ] as const) {
    const ex = await explainOn(node, X)
    assert.deepEqual([ex.deniedNow, ex.policyVersion, ex.instance], [true, pa.version, name])
    assert.deepEqual(
      [ex.rule?.list, ex.rule?.value, ex.rule?.origin, ex.rule?.added?.instance, ex.rule?.added?.file],
      ['cid-deny', X, 'config', 'edge-a', join(dirA, 'config.yaml')]
    )
    assert.match(ex.summary[0], /Denied by the cid-deny entry .* from config\.yaml .* of instance "edge-a"/)
    assert.equal((await explainOn(node, Y)).deniedNow, false, `${name} does not deny what only B's file lists`)
  }

  // A refusal on B carries B's name.
  const helia = await heliaClient(t, b.multiaddrs)
  await assert.rejects(catFile(helia, x.root, 2_000))
  const refused = await until(
    'a refusal of X recorded on B',
    () => explainOn(b, X),
    (e) => e.refusals.length > 0
  )
  assert.deepEqual(
    [refused.refusals[0].instance, refused.refusals[0].peer, refused.refusals[0].reason],
    ['edge-b', helia.libp2p.peerId.toString(), 'blacklisted_cid']
  )

  // B reloads: its file becomes the layer in force on both, at one new version, and A's stream says so.
  const streamed = policyEvent(a, pa.version + 1)
  const reload = await adminApi<{ version: number }>(b, 'POST', '/api/v1/reload')
  assert.equal(reload.status, 200, JSON.stringify(reload.body))
  const v = reload.body.version
  const event = await streamed
  assert.deepEqual([event.version, event.change?.origin, event.change?.instance], [v, 'config', 'edge-b'])
  await until(
    'A at the reload version',
    () => policyOf(a),
    (p) => p.version >= v
  )
  const [qa, qb] = [await policyOf(a), await policyOf(b)]
  assert.deepEqual([qa.version, qb.version], [v, v])
  assert.deepEqual([denied(qa), denied(qb)], [[Y], [Y]])
  assert.deepEqual(
    [qa.minerBlacklist.map((m) => m.provider), qb.minerBlacklist.map((m) => m.provider)],
    [['f0999'], ['f0999']]
  )
  assert.equal(qb.configDrift, null)
  assert.equal(qa.configDrift?.stored.instance, 'edge-b', 'now A is the one whose file differs')
  for (const node of [a, b]) {
    const [ex, ey] = [await explainOn(node, X), await explainOn(node, Y)]
    assert.deepEqual([ex.deniedNow, ey.deniedNow, ey.policyVersion], [false, true, v])
    assert.deepEqual([ey.rule?.origin, ey.rule?.added?.instance, ey.rule?.added?.version], ['config', 'edge-b', v])
  }

  // An API entry added through A reads the same on B: origin, reason, who and at which version.
  const add = await adminApi<{ version: number }>(a, 'POST', '/api/v1/blacklist/cids', {
    cid: X,
    reason: 'takedown 42'
  })
  assert.equal(add.status, 201)
  const onB = await until(
    'the API deny on B',
    () => explainOn(b, X),
    (e) => e.deniedNow
  )
  assert.deepEqual(
    [onB.policyVersion, onB.rule?.origin, onB.rule?.reason, onB.rule?.added?.instance, onB.rule?.added?.version],
    [add.body.version, 'api', 'takedown 42', 'edge-a', add.body.version]
  )
  assert.match(
    onB.summary[0],
    /added through the api by instance "edge-a" at policy version \d+ .*reason "takedown 42"/
  )
})
