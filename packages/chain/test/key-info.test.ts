import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeKeyInfoHex, encodeKeyInfoHex, keyInfoFromJson, keyInfoToJson } from '../src/index.ts'
import { KEY_A } from './helpers.ts'

test('KeyInfo JSON and its exported hex round-trip', () => {
  const ki = { type: 'secp256k1' as const, privateKey: KEY_A }
  const json = keyInfoToJson(ki)
  assert.equal(json, `{"Type":"secp256k1","PrivateKey":"${Buffer.from(KEY_A).toString('base64')}"}`)
  assert.deepEqual(keyInfoFromJson(json), ki)
  const hex = encodeKeyInfoHex(ki)
  assert.equal(Buffer.from(hex, 'hex').toString(), json)
  assert.deepEqual(decodeKeyInfoHex(`${hex}\n`), ki)
})

test('unusable key infos are refused without echoing the key', () => {
  const secret = Buffer.from(KEY_A).toString('base64')
  const cases = [
    'not json',
    '[]',
    `{"Type":"bls","PrivateKey":"${secret}"}`,
    `{"Type":"ed25519","PrivateKey":"${secret}"}`,
    '{"Type":"secp256k1","PrivateKey":"AAAA"}',
    '{"Type":"secp256k1","PrivateKey":"***"}'
  ]
  for (const text of cases) {
    assert.throws(
      () => keyInfoFromJson(text),
      (err: Error & { code?: string }) => err.code === 'ERR_INVALID_KEY' && !err.message.includes(secret),
      text
    )
  }
  assert.throws(() => decodeKeyInfoHex('zz'), { code: 'ERR_INVALID_KEY', message: /not hex/ })
})
