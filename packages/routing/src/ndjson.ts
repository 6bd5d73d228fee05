import { IndexerResponseError } from './errors.ts'

/** Lines of an NDJSON body as parsed values, streamed; blank lines skipped; a bad line names its number. */
export async function* ndjson(body: ReadableStream<Uint8Array>, what: string): AsyncGenerator<unknown> {
  const decoder = new TextDecoder()
  let buffer = ''
  let lineNo = 0
  const parse = (line: string) => {
    lineNo++
    if (line.trim() === '') return undefined
    try {
      return JSON.parse(line) as unknown
    } catch (cause) {
      throw new IndexerResponseError(`${what}: line ${lineNo} is not JSON`, { cause })
    }
  }
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const value = parse(buffer.slice(0, nl))
      buffer = buffer.slice(nl + 1)
      if (value !== undefined) yield value
      nl = buffer.indexOf('\n')
    }
    if (buffer.length > 1024 * 1024) throw new IndexerResponseError(`${what}: a line longer than 1 MiB`)
  }
  const last = parse(buffer + decoder.decode())
  if (last !== undefined) yield last
}
