import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_SCORED_PROVIDERS } from '../src/constants.ts'
import { ProviderScores } from '../src/scores.ts'

test('a provider with no history scores neutral, between a good one and a bad one', () => {
  const scores = new ProviderScores()
  scores.record('good', { ok: true, ttfbMs: 50, bytes: 1e6, durationMs: 100 })
  scores.record('bad', { ok: false })
  assert.ok(scores.score('good') > scores.score('new'))
  assert.ok(scores.score('new') > scores.score('bad'))
  assert.equal(scores.score('new'), 0.5)
})

test('remembers at most its bound of providers, forgetting the least recently used first', () => {
  const scores = new ProviderScores(3)
  for (const p of ['a', 'b', 'c']) scores.record(p, { ok: false })
  scores.score('a') // a is used again: b is now the oldest
  scores.record('d', { ok: false })
  assert.equal(scores.size, 3)
  assert.equal(scores.score('b'), 0.5, 'b was forgotten and scores neutral again')
  assert.ok(scores.score('a') < 0.5 && scores.score('c') < 0.5 && scores.score('d') < 0.5)
})

test(`by default the bound is MAX_SCORED_PROVIDERS (${MAX_SCORED_PROVIDERS}), however many providers come by`, () => {
  const scores = new ProviderScores()
  for (let i = 0; i < MAX_SCORED_PROVIDERS + 500; i++) scores.record(`peer-${i}`, { ok: true })
  assert.equal(scores.size, MAX_SCORED_PROVIDERS)
  assert.equal(scores.score('peer-0'), 0.5, 'the oldest were forgotten')
  assert.ok(scores.score(`peer-${MAX_SCORED_PROVIDERS + 499}`) > 0.5)
})
