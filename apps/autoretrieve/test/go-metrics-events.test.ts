import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  createUnixfsFixture,
  type Exposition,
  GO_METRICS,
  parseExposition,
  startEventRecorder,
  startIndexer,
  startProvider,
  sampleValue as value
} from '@autoretrieve/testkit'
import { catFile, cliEnv, type DaemonHandle, heliaClient, startDaemon, tempDataDir, until } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }
const P = 'autoretrieve_'

const scrape = async (node: DaemonHandle): Promise<Exposition> =>
  parseExposition(await (await fetch(`${node.adminUrl}/metrics`)).text())

/** An HTTP provider of `car` behind an indexer stand-in; its URL for lookup-endpoint-url. */
async function providerBehindIndexer(t: After, car: Uint8Array, fault: 'none' | 'status500') {
  const p = await startProvider({ cars: [car], protocols: ['http'], fault })
  t.after(() => p.close())
  const indexer = await startIndexer({
    providers: [{ peerId: p.peerId, addrs: [p.httpMultiaddr!], protocols: ['http'] }]
  })
  t.after(() => indexer.close())
  return { provider: p, indexerUrl: indexer.url }
}

/** A data dir whose config.yaml names the event recorder (Go keys), with the Go node's auth file. */
async function dataDirWithRecorder(t: After & { after(fn: () => Promise<void>): void }, url: string, auth?: string) {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), `event-recorder-endpoint-url: ${url}\ninstance-name: edge-test-1\n`)
  if (auth !== undefined) await writeFile(join(dataDir, 'eventrecorderauth'), `${auth}\n`)
  return dataDir
}

test('a node shows every Go metric name from the start; a failed miss counts in the Go error series and reaches the event recorder', async (t) => {
  const fixture = await createUnixfsFixture({ size: 200_000, chunkSize: 100_000, seed: 141 })
  const { provider, indexerUrl } = await providerBehindIndexer(t, fixture.car, 'status500')
  const recorder = await startEventRecorder({ authorization: 'Z286YmFy' })
  t.after(() => recorder.close())
  const dataDir = await dataDirWithRecorder(t, recorder.url, 'Z286YmFy')
  const node = await startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexerUrl }))

  const fresh = await scrape(node)
  for (const { name, type } of GO_METRICS) {
    assert.equal(fresh.types.get(P + name), type, `${name} is a ${type} on a fresh node`)
    if (type === 'counter' && name !== 'bitswap_response_total') assert.equal(value(fresh, P + name), 0, name)
  }

  const helia = await heliaClient(t, node.multiaddrs)
  await assert.rejects(catFile(helia, fixture.root, 5_000))
  const m = await until(
    'the failed attempt in the Go error series',
    () => scrape(node),
    (e) => (value(e, `${P}retrieval_error_other_total`) ?? 0) >= 1,
    { timeoutMs: 20_000, intervalMs: 200 }
  )
  assert.ok((value(m, `${P}retrieval_deal_fail_total`, { protocol: 'http' }) ?? 0) >= 1)
  assert.equal(value(m, `${P}retrieval_error_timeout_total`), 0)
  assert.equal(value(m, `${P}retrieval_deal_success_total`), 0)

  // The recorder got lassie's events for the attempt: started, then a failure saying why.
  await until(
    'the failure event at the recorder',
    () => recorder.events.map((e) => e.eventName),
    (names) => names.includes('failure'),
    { timeoutMs: 20_000, intervalMs: 100 }
  )
  assert.deepEqual(recorder.problems, [])
  assert.equal(recorder.posts.unauthorized, 0)
  // Batches may arrive out of order (five posters): read them in event time.
  const ofProvider = recorder.events
    .filter((e) => e.storageProviderId === provider.peerId)
    .sort((a, b) => a.eventTime.localeCompare(b.eventTime) || (a.eventName === 'started' ? -1 : 1))
  assert.deepEqual(
    ofProvider.slice(0, 2).map((e) => e.eventName),
    ['started', 'failure']
  )
  for (const e of recorder.events) {
    assert.equal(e.instanceId, 'edge-test-1')
    assert.equal(e.cid, fixture.root.toString())
    assert.equal(e.phase, 'retrieval')
    assert.match(e.retrievalId, /^[0-9a-f-]{36}$/)
  }
  const failure = ofProvider.find((e) => e.eventName === 'failure')!
  assert.match(String((failure.eventDetails as { error: string }).error), /HTTP 500/)
})

test('a recorder that never answers neither fails nor holds up a retrieval; its events are dropped and counted', async (t) => {
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 100_000, seed: 142 })
  const { indexerUrl } = await providerBehindIndexer(t, fixture.car, 'none')
  const recorder = await startEventRecorder({ fault: 'hang' })
  t.after(() => recorder.close())
  const dataDir = await dataDirWithRecorder(t, recorder.url)
  const node = await startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexerUrl }))
  const helia = await heliaClient(t, node.multiaddrs)
  assert.deepEqual(await catFile(helia, fixture.root), Buffer.from(fixture.bytes))
  const m = await until(
    'the hanging posts to time out (5 s) and their events to be counted as dropped',
    () => scrape(node),
    (e) => (value(e, `${P}event_recorder_events_total`, { outcome: 'dropped' }) ?? 0) >= 2,
    { timeoutMs: 30_000, intervalMs: 250 }
  )
  assert.equal(value(m, `${P}event_recorder_events_total`, { outcome: 'sent' }), 0)
  assert.equal(value(m, `${P}retrieval_deal_success_total`), 1)
  assert.ok(recorder.posts.faulted >= 1, 'the node did post')
})
