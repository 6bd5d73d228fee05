import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GatewayError } from '../src/errors.ts'
import { parseRequest } from '../src/request.ts'

const CID_TEXT = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const RAW = 'application/vnd.ipld.raw'
const CAR = 'application/vnd.ipld.car'
const parse = (path: string, accept?: string, cacheControl?: string) =>
  parseRequest(new URL(path, 'http://gw'), { accept, cacheControl }, { maxPathSegments: 4 })
const fails = (status: number, fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError, String(err))
    assert.equal(err.status, status, err.message)
    assert.match(err.message, message)
    return true
  })

test('Accept is negotiated by q value; format wins over Accept; query CAR params win over Accept params', () => {
  assert.equal(parse(`/ipfs/${CID_TEXT}`, `${RAW};q=0.5, ${CAR};q=0.9`).format, 'car')
  assert.equal(parse(`/ipfs/${CID_TEXT}`, `${CAR};q=0.4, ${RAW}`).format, 'raw')
  assert.equal(parse(`/ipfs/${CID_TEXT}?format=raw`, CAR).format, 'raw')
  const r = parse(`/ipfs/${CID_TEXT}`, `${CAR};version=1;order=dfs;dups=n`)
  assert.equal(r.dups, false)
  assert.equal(r.formatFromAccept, true)
  assert.equal(parse(`/ipfs/${CID_TEXT}?car-dups=y`, `${CAR};dups=n`).dups, true)
  assert.equal(parse(`/ipfs/${CID_TEXT}`, '*/*').format, 'car', 'go-trustless-utils reads */* as CAR')
  fails(406, () => parse(`/ipfs/${CID_TEXT}`, `text/html, ${CAR};q=0`), /names no type/)
  fails(400, () => parse(`/ipfs/${CID_TEXT}`), /no format/)
})

test('paths are decoded per segment and bounded; scopes, ranges and filenames are checked at the edge', () => {
  const r = parse(`/ipfs/${CID_TEXT}/a%20b/c%2Fd/?format=car`)
  assert.deepEqual(r.path, ['a b', 'c/d'])
  fails(400, () => parse(`/ipfs/${CID_TEXT}/a/b/c/d/e?format=car`), /at most 4/)
  fails(400, () => parse(`/ipfs/${CID_TEXT}/%E0%A4%A?format=car`), /percent-encoding/)
  assert.deepEqual(parse(`/ipfs/${CID_TEXT}?format=car&entity-bytes=-1024:*`).entityBytes, { from: -1024, to: '*' })
  assert.equal(parse(`/ipfs/${CID_TEXT}?format=car&entity-bytes=10:20`).scope, 'entity', 'a range implies entity')
  assert.equal(parse(`/ipfs/${CID_TEXT}?format=car&entity-bytes=0:*`).entityBytes, undefined, '0:* is the whole entity')
  fails(400, () => parse(`/ipfs/${CID_TEXT}?format=car&entity-bytes=20:10`), /to is before from/)
  fails(400, () => parse(`/ipfs/${CID_TEXT}?format=car&entity-bytes=a:b`), /from:to/)
  fails(400, () => parse(`/ipfs/${CID_TEXT}?format=car&dag-scope=block&entity-bytes=1:2`), /needs dag-scope=entity/)
  fails(400, () => parse(`/ipfs/${CID_TEXT}?format=car&filename=x.bin`), /must end with \.car/)
  fails(400, () => parse(`/ipfs/${CID_TEXT}?format=car&filename=a"b.car`), /not a plain file name/)
  fails(400, () => parse(`/ipfs/${CID_TEXT}?format=car&car-order=random`), /dfs or unk/)
  assert.equal(parse(`/ipfs/${CID_TEXT}?format=raw`, undefined, 'no-cache, only-if-cached').onlyIfCached, true)
})
