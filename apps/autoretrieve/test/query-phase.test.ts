import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createStore } from '@autoretrieve/store'
import {
  type BoostAsk,
  createUnixfsFixture,
  type ProviderStandIn,
  startIndexer,
  startProvider
} from '@autoretrieve/testkit'
import type { CID } from 'multiformats/cid'
import { catFile, cliEnv, heliaClient, scratchDatabase, startDaemon, tempDataDir } from './helpers.ts'

// The retrieval query phase (/fil/retrieval/qry/1.0.0) through a real node and a Helia client: with
// paid-retrievals off (the default) a priced Graphsync provider is asked, passed over with
// paid_not_allowed and never sent a proposal; a free one serves.

type After = { after(fn: () => Promise<unknown>): void }

async function graphsyncProvider(t: After, car: Uint8Array, ask: BoostAsk) {
  const p = await startProvider({ cars: [car], protocols: ['graphsync'], ask })
  t.after(() => p.close())
  return p
}

const record = (p: ProviderStandIn) => ({ peerId: p.peerId, addrs: p.multiaddrs, protocols: ['graphsync' as const] })

async function finishedRetrieval(databaseUrl: string, t: After, root: CID) {
  const store = await createStore({ databaseUrl })
  t.after(() => store.close())
  const deadline = Date.now() + 5_000
  for (;;) {
    const why = await store.retrievals.explain(root.toString())
    const r = why.retrievals[0]
    if ((r !== undefined && r.status !== 'running') || Date.now() > deadline) return r
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const metric = (text: string, name: string) => {
  const m = text.match(new RegExp(`^autoretrieve_${name} (\\d+)$`, 'm'))
  return m === null ? undefined : Number(m[1])
}

test('a priced graphsync provider is passed over (paid_not_allowed, no proposal); the free one serves a Helia client', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const fixture = await createUnixfsFixture({ size: 1024 * 1024, chunkSize: 128 * 1024, seed: 1601 })
  const priced = await graphsyncProvider(t, fixture.car, { pricePerByte: 2n })
  const unsealing = await graphsyncProvider(t, fixture.car, { unsealPrice: 1000n })
  const hanging = await graphsyncProvider(t, fixture.car, { queryMode: 'hang' })
  const erroring = await graphsyncProvider(t, fixture.car, { queryMode: 'error' })
  const free = await graphsyncProvider(t, fixture.car, {})
  // The priced ones are listed first: without the query phase they would be proposed to first.
  const indexer = await startIndexer({
    providers: [record(priced), record(unsealing), record(hanging), record(erroring), record(free)]
  })
  t.after(() => indexer.close())
  const node = await startDaemon(
    t,
    await tempDataDir(t),
    cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url, AUTORETRIEVE_DATABASE_URL: databaseUrl })
  )
  const started = Date.now()
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  // The hanging query (5 s timeout) did not hold the free provider back.
  assert.ok(Date.now() - started < 4_500, `served in ${Date.now() - started} ms`)

  for (const p of [priced, unsealing, erroring, free])
    assert.equal(p.stats.queriesAnswered, 1, 'every candidate was asked')
  assert.equal(priced.stats.proposalsReceived, 0, 'no proposal to a priced ask')
  assert.equal(unsealing.stats.proposalsReceived, 0, 'no proposal to an unseal price')
  assert.equal(hanging.stats.proposalsReceived, 0)
  assert.equal(erroring.stats.proposalsReceived, 0)
  assert.equal(free.stats.proposalsReceived, 1)

  const retrieval = await finishedRetrieval(databaseUrl, t, fixture.root)
  assert.equal(retrieval?.status, 'success')
  const byProvider = Object.fromEntries(retrieval.attempts.map((a) => [a.provider, [a.outcome, a.errorClass]]))
  assert.deepEqual(byProvider[priced.peerId], ['failed', 'paid_not_allowed'])
  assert.deepEqual(byProvider[unsealing.peerId], ['failed', 'paid_not_allowed'])
  assert.deepEqual(byProvider[erroring.peerId], ['failed', 'query_failed'])
  assert.deepEqual(byProvider[free.peerId], ['success', null])

  const metrics = await (await fetch(`${node.adminUrl}/metrics`)).text()
  // The query phase settles once the race is won (the hanging query is cut short, counted as neither).
  let text = metrics
  for (let i = 0; i < 100 && metric(text, 'request_with_successful_queries_total') !== 1; i++) {
    await new Promise((r) => setTimeout(r, 100))
    text = await (await fetch(`${node.adminUrl}/metrics`)).text()
  }
  assert.match(text, /^autoretrieve_retrieval_error_total\{error_class="paid_not_allowed"\} 2$/m)
  assert.match(text, /^autoretrieve_retrieval_error_total\{error_class="query_failed"\} 1$/m)
  assert.equal(metric(text, 'request_with_successful_queries_total'), 1)
  assert.equal(metric(text, 'request_with_successful_queries_filtered_total'), 1)
  assert.equal(metric(text, 'successful_queries_per_request_total_sum'), 4, 'four answered')
  assert.equal(metric(text, 'successful_queries_per_request_filtered_total_sum'), 1, 'one let through')
  // The Error answer's words ("failed to fetch storage deal state") are the Go node's dealstate class.
  assert.equal(metric(text, 'query_error_dealstate'), 1)
  assert.equal(metric(text, 'query_error_error_other_total'), 0)
  // Passed over by its answer is not a failed retrieval in the Go series.
  assert.equal(metric(text, 'retrieval_error_other_total'), 0)
})
