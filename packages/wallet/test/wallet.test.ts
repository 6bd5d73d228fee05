import assert from 'node:assert/strict'
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { keyInfoFromJson } from '@autoretrieve/chain'
import { keyFileName, openWallet } from '../src/index.ts'

const FIXTURE = fileURLToPath(new URL('../../../test-vectors/wallet/', import.meta.url))

interface ManifestEntry {
  name: string
  file: string
  address: string
  privateKeyHex: string
  default: boolean
}

async function dataDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ar-wallet-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function recordingLogger() {
  const warnings: Array<{ obj: unknown; msg?: string }> = []
  const all: string[] = []
  const note = (obj: unknown, msg?: string) => all.push(`${JSON.stringify(obj)} ${msg ?? ''}`)
  return {
    warnings,
    all,
    logger: {
      debug: note,
      info: note,
      error: note,
      warn: (obj: unknown, msg?: string) => {
        warnings.push({ obj, msg })
        note(obj, msg)
      }
    }
  }
}

test('a Go node’s wallet directory carries over: keys, default, file names and content', async (t) => {
  const manifest = JSON.parse(await readFile(join(FIXTURE, 'manifest.json'), 'utf8')) as ManifestEntry[]
  const dir = await dataDir(t)
  await cp(join(FIXTURE, 'wallet'), join(dir, 'wallet'), { recursive: true })
  // As a git checkout leaves them: readable by others. Opening tightens them, with a warning.
  await chmod(join(dir, 'wallet'), 0o755)
  for (const e of manifest) await chmod(join(dir, 'wallet', e.file), 0o644)
  const { logger, warnings, all } = recordingLogger()
  const wallet = await openWallet(dir, { logger })
  const keys = manifest.filter((e) => e.name.startsWith('wallet-'))
  assert.deepEqual(
    await wallet.list(),
    keys.map((e) => ({ address: e.address, default: e.default })).sort((a, b) => a.address.localeCompare(b.address))
  )
  const def = manifest.find((e) => e.name === 'default')!
  assert.equal(await wallet.defaultAddress(), def.address)
  for (const e of keys) {
    assert.equal(keyFileName(e.name), e.file, `file name of ${e.name}`)
    assert.equal(Buffer.from((await wallet.key(e.address)).privateKey).toString('hex'), e.privateKeyHex)
  }
  assert.equal((await stat(join(dir, 'wallet'))).mode & 0o777, 0o700)
  for (const e of manifest) assert.equal((await stat(join(dir, 'wallet', e.file))).mode & 0o777, 0o600, e.name)
  assert.ok(warnings.some((w) => /directory was readable by others/.test(w.msg ?? '')))
  assert.ok(warnings.some((w) => /key file was readable by others/.test(w.msg ?? '')))
  for (const e of manifest) assert.ok(!all.some((line) => line.includes(e.privateKeyHex)), 'no key in the logs')

  // A key this wallet writes is in the Go format: same name rule, same JSON shape, 0600.
  const made = await wallet.generate()
  assert.equal(made.isDefault, false, 'the Go default stays the default')
  const file = join(dir, 'wallet', keyFileName(`wallet-${made.address}`))
  const text = await readFile(file, 'utf8')
  const goText = await readFile(join(FIXTURE, 'wallet', def.file), 'utf8')
  assert.match(text, /^\{"Type":"secp256k1","PrivateKey":"[A-Za-z0-9+/]{43}="\}$/)
  assert.match(goText, /^\{"Type":"secp256k1","PrivateKey":"[A-Za-z0-9+/]{43}="\}$/)
  assert.equal(keyInfoFromJson(text).privateKey.length, 32)
  assert.equal((await stat(file)).mode & 0o777, 0o600)
})

test('a new wallet: 0700 dir, first key is the default, set default, import is idempotent', async (t) => {
  const dir = await dataDir(t)
  const wallet = await openWallet(dir)
  assert.equal((await stat(wallet.dir)).mode & 0o777, 0o700)
  assert.deepEqual(await wallet.list(), [])
  assert.equal(await wallet.defaultAddress(), undefined)
  const a = await wallet.generate()
  assert.match(a.address, /^f1[a-z2-7]{39}$/)
  assert.equal(a.isDefault, true)
  const b = await wallet.generate()
  assert.equal(b.isDefault, false)
  assert.equal(await wallet.defaultAddress(), a.address)
  await wallet.setDefault(b.address)
  assert.equal(await wallet.defaultAddress(), b.address)
  assert.deepEqual(
    (await wallet.list()).filter((k) => k.default),
    [{ address: b.address, default: true }]
  )
  // Only key files in the directory: the default is replaced through a file beside it.
  assert.equal((await readdir(wallet.dir)).length, 3)
  const again = await wallet.importKey(await wallet.key(a.address))
  assert.deepEqual(again, { address: a.address, isDefault: false })
  assert.equal((await readdir(wallet.dir)).length, 3)
  // A testnet-prefixed address names the same key.
  assert.equal(
    Buffer.from((await wallet.key(`t${a.address.slice(1)}`)).privateKey).toString('hex'),
    Buffer.from((await wallet.key(a.address)).privateKey).toString('hex')
  )
  await assert.rejects(wallet.setDefault('f1abcdefghijklmnopqrstuvwxyz234567abcdefg'), (err: Error) => {
    assert.match(err.message, /not a Filecoin address|no key for/)
    return true
  })
  await assert.rejects(wallet.key('nonsense'), { code: 'ERR_WALLET', message: /"nonsense" is not a Filecoin address/ })
})

test('concurrent first keys leave exactly one default; a broken key file is named, not echoed', async (t) => {
  const dir = await dataDir(t)
  const wallet = await openWallet(dir)
  const made = await Promise.all(Array.from({ length: 4 }, () => wallet.generate()))
  assert.equal(made.filter((m) => m.isDefault).length, 1)
  assert.equal(await wallet.defaultAddress(), made.find((m) => m.isDefault)?.address)
  const bad = join(wallet.dir, keyFileName('wallet-f1broken'))
  await writeFile(bad, '{"Type":"secp256k1","PrivateKey":"c2VjcmV0LXNlY3JldA=="}', { mode: 0o600 })
  await writeFile(join(wallet.dir, keyFileName('default')), 'not json at all but secret', { mode: 0o600 })
  await assert.rejects(wallet.defaultAddress(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_WALLET')
    assert.match(err.message, /key "default" \(.*MRSWMYLVNR2A\): key info is not JSON/)
    assert.ok(!err.message.includes('secret'))
    return true
  })
})
