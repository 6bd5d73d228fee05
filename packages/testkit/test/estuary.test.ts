import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { startEstuary } from '../src/index.ts'
import { startTestkitCli } from './cli-process.ts'

const CID_V1 = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

async function register(url: string, adminToken: string, fields: { addresses?: string; pubKey?: string }) {
  const form = new FormData()
  if (fields.addresses !== undefined) form.set('addresses', fields.addresses)
  if (fields.pubKey !== undefined) form.set('pubKey', fields.pubKey)
  return fetch(`${url}/admin/autoretrieve/init`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}` },
    body: form
  })
}

async function identity() {
  const key = await generateKeyPair('Ed25519')
  return {
    peerId: peerIdFromPrivateKey(key).toString(),
    pubKey: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64')
  }
}

/** The fields of Estuary's answers (registration, heartbeat, errors) the tests read. */
interface EstuaryAnswer {
  handle: string
  token: string
  advertiseInterval: string
  lastAdvertisement: string
  addrInfo: { ID: string; Addrs: string[] }
  error: { code: number; reason: string; details: string }
}

const beat = (url: string, authorization?: string) =>
  fetch(`${url}/autoretrieve/heartbeat`, {
    method: 'POST',
    headers: authorization === undefined ? {} : { Authorization: authorization }
  })

test('registration takes multipart addresses and pubKey with the admin token and answers handle and token', async (t) => {
  const estuary = await startEstuary({ advertiseInterval: '400ms' })
  t.after(() => estuary.close())
  const id = await identity()
  assert.match(id.pubKey, /^CAESI/, 'Ed25519 libp2p protobuf public key, standard base64')
  const res = await register(estuary.url, estuary.adminToken, {
    addresses: `/ip4/192.0.2.7/tcp/6746,/ip4/192.0.2.7/tcp/6747/ws/p2p/${id.peerId}`,
    pubKey: id.pubKey
  })
  assert.equal(res.status, 200)
  const body = (await res.json()) as EstuaryAnswer
  assert.match(body.handle, /^AUTORETRIEVE[0-9a-f-]{36}HANDLE$/)
  assert.match(body.token, /^SECRET[0-9a-f-]{36}SECRET$/)
  assert.equal(body.advertiseInterval, '400ms')
  assert.equal(body.lastAdvertisement, '0001-01-01T00:00:00Z')
  assert.deepEqual(body.addrInfo, { ID: id.peerId, Addrs: ['/ip4/192.0.2.7/tcp/6746', '/ip4/192.0.2.7/tcp/6747/ws'] })
  assert.match(estuary.registrations[0].contentType ?? '', /^multipart\/form-data; boundary=/)
  assert.equal(estuary.autoretrieves.get(body.handle)?.token, body.token)
})

test('registration refuses a wrong admin token (401) and a bad key or address (Estuary plain error, 500)', async (t) => {
  const estuary = await startEstuary()
  t.after(() => estuary.close())
  const id = await identity()
  const wrong = await register(estuary.url, 'nope', { addresses: '/ip4/192.0.2.7/tcp/6746', pubKey: id.pubKey })
  assert.equal(wrong.status, 401)
  assert.deepEqual(((await wrong.json()) as EstuaryAnswer).error.reason, 'ERR_NOT_AUTHORIZED')
  const badKey = await register(estuary.url, estuary.adminToken, { addresses: '/ip4/192.0.2.7/tcp/6746', pubKey: 'xx' })
  assert.equal(badKey.status, 500)
  const badAddr = await register(estuary.url, estuary.adminToken, { addresses: 'not-an-addr', pubKey: id.pubKey })
  assert.equal(badAddr.status, 500)
  assert.equal(((await badAddr.json()) as EstuaryAnswer).error.code, 500)
  assert.equal(estuary.autoretrieves.size, 0)
})

test('re-registering the same key rotates the token: the old one is refused at the heartbeat', async (t) => {
  const estuary = await startEstuary()
  t.after(() => estuary.close())
  const id = await identity()
  const fields = { addresses: '/ip4/192.0.2.7/tcp/6746', pubKey: id.pubKey }
  const first = (await (await register(estuary.url, estuary.adminToken, fields)).json()) as EstuaryAnswer
  const second = (await (await register(estuary.url, estuary.adminToken, fields)).json()) as EstuaryAnswer
  assert.notEqual(first.token, second.token)
  assert.equal(estuary.autoretrieves.size, 1)
  assert.equal((await beat(estuary.url, `Bearer ${first.token}`)).status, 401)
  const ok = await beat(estuary.url, `Bearer ${second.token}`)
  assert.equal(ok.status, 200)
  const body = (await ok.json()) as EstuaryAnswer
  assert.equal(body.handle, second.handle)
  assert.equal(body.advertiseInterval, '1m0s')
  assert.equal(body.addrInfo.ID, id.peerId)
  const list = await fetch(`${estuary.url}/admin/autoretrieve/list`, {
    headers: { Authorization: `Bearer ${estuary.adminToken}` }
  })
  assert.deepEqual(
    ((await list.json()) as Array<{ handle: string }>).map((a) => a.handle),
    [second.handle]
  )
})

test('the heartbeat applies Estuary auth rules and records each request; faults switch on and off', async (t) => {
  const estuary = await startEstuary()
  t.after(() => estuary.close())
  const id = await identity()
  const { token } = (await (
    await register(estuary.url, estuary.adminToken, { addresses: '/ip4/192.0.2.7/tcp/6746', pubKey: id.pubKey })
  ).json()) as EstuaryAnswer
  const reasons: string[] = []
  for (const header of [undefined, `Bearer  ${token}`, `bearer ${token}`, `Bearer ${token} x`, 'Bearer unknown']) {
    const res = await beat(estuary.url, header)
    assert.equal(res.status, 401, String(header))
    reasons.push(((await res.json()) as EstuaryAnswer).error.reason)
  }
  assert.deepEqual(reasons, [
    'ERR_AUTH_MISSING',
    'ERR_INVALID_AUTH',
    'ERR_INVALID_AUTH',
    'ERR_INVALID_AUTH',
    'ERR_NOT_AUTHORIZED'
  ])
  estuary.setFault('status500')
  assert.equal((await beat(estuary.url, `Bearer ${token}`)).status, 500)
  estuary.setFault('status401')
  assert.equal((await beat(estuary.url, `Bearer ${token}`)).status, 401)
  estuary.setFault('garbage')
  const garbage = await beat(estuary.url, `Bearer ${token}`)
  assert.equal(garbage.status, 200)
  await assert.rejects(garbage.json() as Promise<unknown>, { name: 'SyntaxError' })
  estuary.setFault('none')
  assert.equal((await beat(estuary.url, `Bearer ${token}`)).status, 200)
  assert.equal(estuary.heartbeats.length, 9)
  assert.deepEqual(
    estuary.heartbeats.map((h) => h.status),
    [401, 401, 401, 401, 401, 500, 401, 200, 200]
  )
  const last = estuary.heartbeats.at(-1)!
  assert.equal(last.contentType, undefined)
  assert.equal(last.bodyBytes, 0)
  assert.ok(last.handle?.startsWith('AUTORETRIEVE'))
})

test('retrieval candidates: deals for a CID, null when none, 400 for an invalid CID', async (t) => {
  const estuary = await startEstuary({
    candidates: { [CID_V1]: [{ miner: 'f01234', rootCid: CID_V1, dealId: 42 }] }
  })
  t.after(() => estuary.close())
  const found = await fetch(`${estuary.url}/retrieval-candidates/${CID_V1}`)
  assert.deepEqual(await found.json(), [{ Miner: 'f01234', RootCid: { '/': CID_V1 }, DealID: 42 }])
  const none = await fetch(`${estuary.url}/retrieval-candidates/QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk`)
  assert.equal(await none.text(), 'null')
  const bad = await fetch(`${estuary.url}/retrieval-candidates/nope`)
  assert.equal(bad.status, 400)
  assert.deepEqual(await bad.json(), { error: 'invalid cid' })
})

test('`autoretrieve-testkit estuary` prints its URL and admin token and answers registration', async (t) => {
  const info = await startTestkitCli<{ url: string; adminToken: string }>(t, [
    'estuary',
    '--admin-token',
    'ADMIN',
    '--advertise-interval',
    '2s'
  ])
  assert.equal(info.adminToken, 'ADMIN')
  const id = await identity()
  const res = await register(info.url, 'ADMIN', { addresses: '/ip4/192.0.2.7/tcp/6746', pubKey: id.pubKey })
  assert.equal(res.status, 200)
  assert.equal(((await res.json()) as EstuaryAnswer).advertiseInterval, '2s')
})
