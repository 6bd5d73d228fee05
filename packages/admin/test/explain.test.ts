import assert from 'node:assert/strict'
import { test } from 'node:test'
import { explainSentences } from '../src/explain.ts'

const base = {
  cid: 'bafy',
  policyVersion: 7,
  instance: 'edge-b',
  rule: null,
  deniedNow: false,
  cachedNow: false,
  refusals: []
}

test('explain renders an error class it does not know as itself, never as "no candidates"', () => {
  const text = explainSentences({
    ...base,
    retrievals: [
      {
        instance: 'edge-a',
        status: 'failed',
        reason: 'indexer_failed',
        startedAt: '2026-12-06T10:00:00.000Z',
        bytes: 0,
        policyVersion: 6,
        candidates: [],
        attempts: []
      }
    ]
  }).join(' ')
  assert.match(text, /on instance "edge-a" at policy version 6 and failed with error class indexer_failed\./)
  assert.doesNotMatch(text, /no candidates|no_candidates/i)
  assert.match(text, /Not denied at policy version 7 on instance "edge-b"\. Not cached on instance "edge-b"\./)
})

test('explain names the rule: list, entry, origin, who added it, when, at which version, and why', () => {
  const [first] = explainSentences({
    ...base,
    deniedNow: true,
    rule: {
      list: 'cid-deny',
      value: 'bafy',
      origin: 'api',
      reason: 'takedown 42',
      added: { version: 5, instance: 'edge-a', at: '2026-12-06T09:00:00.000Z' }
    },
    retrievals: []
  })
  assert.equal(
    first,
    'Denied by the cid-deny entry bafy, added through the api by instance "edge-a" at policy version 5 (2026-12-06T09:00:00.000Z), reason "takedown 42". In force at policy version 7 on instance "edge-b".'
  )
  const attempts = explainSentences({
    ...base,
    retrievals: [
      {
        status: 'failed',
        reason: 'retrieval_failed',
        startedAt: new Date('2026-12-06T10:00:00.000Z'),
        bytes: 0,
        policyVersion: 7,
        candidates: [
          { provider: 'p1', verdict: 'accepted', reason: null },
          { provider: 'p2', verdict: 'dropped', reason: 'denied_provider' }
        ],
        attempts: [
          { provider: 'p1', protocol: 'http', outcome: 'failed', errorClass: 'http_status', errorMessage: '503' }
        ]
      }
    ],
    refusals: [
      { instance: 'edge-b', peer: 'peerX', reason: 'blacklisted_cid', policyVersion: 7, at: '2026-12-06T11:00:00.000Z' }
    ]
  })
  assert.ok(attempts.includes('It had 2 candidates: 1 accepted, 1 dropped (denied_provider).'))
  assert.ok(attempts.includes('Attempt at p1 over http: failed (error class http_status: 503).'))
  assert.match(
    attempts.at(-1)!,
    /Refused 1 time .* peer peerX on instance "edge-b" .*: blacklisted_cid, policy version 7\./
  )
})

test('explain says what a retrieval and each attempt paid, in FIL and attoFIL, and on which channel', () => {
  const text = explainSentences({
    ...base,
    retrievals: [
      {
        status: 'success',
        reason: null,
        startedAt: '2026-12-06T10:00:00.000Z',
        bytes: 2048,
        cost: '1500000000000007',
        policyVersion: 7,
        attempts: [
          {
            provider: '12D3KooWa',
            protocol: 'graphsync',
            outcome: 'failed',
            errorClass: 'overcharged',
            errorMessage: 'asked for 9 attoFIL, 2 owed',
            cost: '7',
            paymentChannel: 'f2aaa'
          },
          {
            provider: '12D3KooWb',
            protocol: 'graphsync',
            outcome: 'success',
            errorClass: null,
            errorMessage: null,
            cost: '1500000000000000',
            paymentChannel: 'f2bbb'
          },
          { provider: '12D3KooWc', protocol: 'http', outcome: 'cancelled', errorClass: null, errorMessage: null }
        ]
      }
    ]
  })
  const all = text.join(' ')
  assert.match(all, /succeeded with 2048 bytes, paying 0\.001500000000000007 FIL \(1500000000000007 attoFIL\)\./)
  assert.match(
    all,
    /Attempt at 12D3KooWa over graphsync: failed \(error class overcharged: asked for 9 attoFIL, 2 owed\), paid 0\.000000000000000007 FIL \(7 attoFIL\) on payment channel f2aaa\./
  )
  assert.match(
    all,
    /Attempt at 12D3KooWb over graphsync: success, paid 0\.0015 FIL \(1500000000000000 attoFIL\) on payment channel f2bbb\./
  )
  assert.match(all, /Attempt at 12D3KooWc over http: cancelled\./, 'a free attempt says nothing of payment')
})
