import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { addressFromBytes, formatAddress } from '@autoretrieve/chain'
import { queryProvider } from '@autoretrieve/filecoin'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createUnixfsFixture, startLotus } from '../src/index.ts'
import { startTestkitCli } from './cli-process.ts'

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
  const info = await startTestkitCli<{ paymentAddress: string; multiaddrs: string[] }>(t, args)
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
