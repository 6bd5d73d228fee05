import { MAX_NDJSON_LINE_BYTES } from './constants.ts'
import { IndexerResponseError } from './errors.ts'

/**
 * An NDJSON body as batches of parsed values: one batch per network chunk, so that records that
 * arrived together can be handled together while later ones are still on their way. Blank lines
 * are skipped (the IPNI spec's own example has them); a line that is not JSON names its number.
 */
export async function* ndjsonBatches(body: ReadableStream<Uint8Array>, what: string): AsyncGenerator<unknown[]> {
  const decoder = new TextDecoder()
  let buffer = ''
  let lineNo = 0
  const parse = (line: string, batch: unknown[]) => {
    lineNo++
    if (line.trim() === '') return
    try {
      batch.push(JSON.parse(line))
    } catch (cause) {
      throw new IndexerResponseError(`${what}: line ${lineNo} is not JSON`, { cause })
    }
  }
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    const batch: unknown[] = []
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      parse(buffer.slice(0, nl), batch)
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
    }
    if (buffer.length > MAX_NDJSON_LINE_BYTES) {
      throw new IndexerResponseError(`${what}: line ${lineNo + 1} is longer than ${MAX_NDJSON_LINE_BYTES} bytes`)
    }
    if (batch.length > 0) yield batch
  }
  const last: unknown[] = []
  parse(buffer + decoder.decode(), last)
  if (last.length > 0) yield last
}
