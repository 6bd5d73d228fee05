import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { addressFromBytes, formatAddress } from '@autoretrieve/chain'
import { queryProvider } from '@autoretrieve/filecoin'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createUnixfsFixture, startLotus } from '../src/index.ts'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

test('`autoretrieve-testkit provider --lotus` asks its terms and names its own wallet to pay', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'testkit-cli-paid-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const lotus = await startLotus({ epochMs: 0 })
  t.after(() => lotus.close())
  const fixture = await createUnixfsFixture({ size: 100_000, chunkSize: 25_000, seed: 62 })
  const car = join(dir, 'f.car')
  await writeFile(car, fixture.car)
  const args = ['provider', '--car', car, '--protocols', 'graphsync', '--price-per-byte', '2']
  args.push('--unseal-price', '0.000000000000001 FIL', '--payment-interval', '65536')
  args.push('--payment-interval-increase', '32768', '--lotus', lotus.apiInfo)
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
  )
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('no output in 20 s')), 20_000)
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('\n')) {
        clearTimeout(timer)
        resolve(out.split('\n')[0])
      }
    })
  })
  const info = JSON.parse(line)
  assert.match(info.paymentAddress, /^f1/)
  const client = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  t.after(() => client.stop())
  const ask = await queryProvider(
    (protocol, options) => client.dialProtocol(multiaddr(info.multiaddrs[0]), protocol, options),
    fixture.root
  )
  assert.equal(ask.minPricePerByte, 2n)
  assert.equal(ask.unsealPrice, 1000n)
  assert.equal(ask.maxPaymentInterval, 65536n)
  assert.equal(ask.maxPaymentIntervalIncrease, 32768n)
  assert.equal(formatAddress(addressFromBytes(ask.paymentAddress)), info.paymentAddress)
})
