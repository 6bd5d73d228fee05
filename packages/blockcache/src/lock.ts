import { open, readFile, unlink } from 'node:fs/promises'
import { BlockLogError } from './errors.ts'

/**
 * One writer per block log: two processes appending at their own idea of the end overwrite each
 * other's records. The lock is a file beside the segments (`<dir>.lock`, not among them) holding
 * the writer's pid; one left by a process that is gone is taken over.
 */

/** Logs this process holds the lock of: a lock file with our own pid and not in here is a leftover. */
const lockedHere = new Set<string>()

const lockPath = (dir: string) => `${dir}.lock`

/** Whether a process with this pid runs (one we may not signal, EPERM, runs too). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock of the log in `dir`; throws BlockLogError ERR_LOCKED while another writer holds it. */
export async function lockLog(dir: string): Promise<void> {
  const path = lockPath(dir)
  if (lockedHere.has(dir)) {
    throw new BlockLogError(`the block cache at ${dir} is already open in this process`, 'ERR_LOCKED')
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600)
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      lockedHere.add(dir)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
    // Our own pid but not held here: left by an earlier process that had it (pid 1 in a container).
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new BlockLogError(
        `the block cache at ${dir} is in use by another autoretrieve process (pid ${pid}); ` +
          `if no autoretrieve runs with that pid, remove ${path}`,
        'ERR_LOCKED'
      )
    }
    await unlink(path).catch(() => {}) // left by a process that is gone (or by this one, reopened)
  }
  throw new BlockLogError(`could not lock the block cache at ${dir}`, 'ERR_LOCKED')
}

export async function unlockLog(dir: string): Promise<void> {
  lockedHere.delete(dir)
  await unlink(lockPath(dir)).catch(() => {})
}
