import type { ConfigFlags } from '@autoretrieve/config'
import type { Command } from 'commander'
import { cacheCommands } from './cache.ts'
import { checkCidCommand } from './check-cid.ts'
import { configCommands } from './config.ts'
import { fetchCommand } from './fetch.ts'
import { idCommand } from './id.ts'
import { paychCommands } from './paych.ts'
import { registerEstuaryCommand } from './register-estuary.ts'
import { runCommand } from './run.ts'
import { walletCommands } from './wallet.ts'

export type FlagsGetter = () => ConfigFlags

export function registerCommands(program: Command, flags: FlagsGetter): void {
  runCommand(program, flags)
  configCommands(program, flags)
  idCommand(program, flags)
  cacheCommands(program, flags)
  checkCidCommand(program, flags)
  fetchCommand(program, flags)
  registerEstuaryCommand(program, flags)
  walletCommands(program, flags)
  paychCommands(program, flags)
}
