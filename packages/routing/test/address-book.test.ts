import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startLotus } from '@autoretrieve/testkit'
import { createLotusMinerResolver, createMinerAddressBook } from '../src/index.ts'

const PEER_A = '12D3KooWLSsGxYdAJcUdr4aKaKD8PFyUxHgaPaRcb2cUV2btUkSr'
const PEER_B = '12D3KooWRFPmkKmdL3nJzVbS2uhUDDyqBdmqFkntFpWKGwCKiNrZ'

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

test('the address book resolves what it watches, forgets what it no longer does, and refreshes after the TTL', async (t) => {
  const miners = { f01234: { peerId: PEER_A, multiaddrs: [] as string[] } }
  const lotus = await startLotus({ miners, token: 'jwt' })
  t.after(() => lotus.close())
  const resolver = createLotusMinerResolver({}, { apiInfo: lotus.apiInfo, cacheTtlMs: 0, failureTtlMs: 0 })
  const book = createMinerAddressBook({ resolver }, { ttlMs: 200, retryMs: 50 })
  t.after(() => book.stop())
  let changes = 0
  book.subscribe(() => changes++)
  await book.watch(['f01234', 'f09999'])
  assert.equal(book.current().get('f01234')?.peerId, PEER_A)
  assert.equal(book.current().get('f09999')?.peerId, undefined)
  assert.match(book.current().get('f09999')?.error ?? '', /actor not found/)
  assert.equal(book.stats().unresolved, 1)
  assert.ok(changes >= 1)
  // The chain changes the miner's peer ID: the next refresh (after the TTL) picks it up.
  miners.f01234.peerId = PEER_B
  const deadline = Date.now() + 5_000
  while (book.current().get('f01234')?.peerId !== PEER_B && Date.now() < deadline) await sleep(25)
  assert.equal(book.current().get('f01234')?.peerId, PEER_B)
  await book.watch(['f01234'])
  assert.deepEqual([...book.current().keys()], ['f01234'])
  assert.ok(book.stats().resolved >= 2)
  assert.ok(book.stats().failed >= 1)
})

test('Lotus unreachable: no throw, an error per address; a refresh that fails keeps the last peer ID; Lotus back resolves', async (t) => {
  const port = await closedPort()
  const resolver = createLotusMinerResolver(
    {},
    { apiInfo: `/ip4/127.0.0.1/tcp/${port}/http`, cacheTtlMs: 0, failureTtlMs: 0, timeoutMs: 1_000 }
  )
  const book = createMinerAddressBook({ resolver }, { ttlMs: 100, retryMs: 50, maxRetryMs: 100 })
  t.after(() => book.stop())
  await book.watch(['f01234'], { waitMs: 5_000 })
  assert.match(book.current().get('f01234')?.error ?? '', /unreachable/)
  assert.equal(book.stats().unresolved, 1)
  const lotus = await startLotus({ port, miners: { f01234: { peerId: PEER_A, multiaddrs: [] } } })
  let deadline = Date.now() + 5_000
  while (book.current().get('f01234')?.peerId === undefined && Date.now() < deadline) await sleep(25)
  assert.deepEqual(
    { ...book.current().get('f01234'), resolvedAt: undefined },
    { peerId: PEER_A, resolvedAt: undefined }
  )
  // Down again: the refresh fails, the peer ID stays, the error says why.
  await lotus.close()
  deadline = Date.now() + 5_000
  while (book.current().get('f01234')?.error === undefined && Date.now() < deadline) await sleep(25)
  assert.equal(book.current().get('f01234')?.peerId, PEER_A)
  assert.match(book.current().get('f01234')?.error ?? '', /unreachable/)
  assert.equal(book.stats().unresolved, 0)
})
