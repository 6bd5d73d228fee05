import * as dagCbor from '@ipld/dag-cbor'
import type { EncodeOptions, TypeEncoder } from 'cborg'
import { decodeFirst, encode, Token, Tokenizer, Type } from 'cborg'

/**
 * A CBOR text string whose bytes are not valid UTF-8. Filecoin data-transfer puts raw binary peer
 * IDs in text strings (ChannelID) and Go's test vouchers carry arbitrary bytes there; decoding
 * them as JavaScript strings would replace bytes with U+FFFD and break re-encoding, so such a
 * string decodes to this wrapper and encodes back to the same bytes.
 */
export class BinaryString {
  readonly bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    this.bytes = bytes
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

const decodeOptions = { ...dagCbor.decodeOptions, retainStringBytes: true }

/** Wraps cborg's tokenizer to turn text strings that are not UTF-8 into {@link BinaryString}s. */
class TolerantTokenizer {
  readonly #inner: InstanceType<typeof Tokenizer>
  constructor(data: Uint8Array) {
    this.#inner = new Tokenizer(data, decodeOptions)
  }
  done(): boolean {
    return this.#inner.done()
  }
  pos(): number {
    return this.#inner.pos()
  }
  next(): Token {
    const token = this.#inner.next()
    // cborg's lenient decode leaves U+FFFD where bytes were invalid: only then check strictly.
    if (
      Type.equals(token.type, Type.string) &&
      token.byteValue !== undefined &&
      typeof token.value === 'string' &&
      token.value.includes('\uFFFD') &&
      !isValidUtf8(token.byteValue)
    ) {
      token.value = new BinaryString(token.byteValue)
    }
    return token
  }
}

// dag-cbor's own Object encoder turns CIDs into tag 42 (and returns null for plain objects).
const dagObjectEncoder = dagCbor.encodeOptions.typeEncoders.Object as unknown as TypeEncoder

const objectEncoder: TypeEncoder = (obj, typ, options, refStack) => {
  if (obj instanceof BinaryString) {
    const token = new Token(Type.string, '', obj.bytes.length)
    token.encodedBytes = obj.bytes
    return token
  }
  return dagObjectEncoder(obj, typ, options, refStack)
}

const encodeOptions: EncodeOptions = {
  ...dagCbor.encodeOptions,
  typeEncoders: { ...dagCbor.encodeOptions.typeEncoders, Object: objectEncoder }
}

/**
 * DAG-CBOR encode: keys in canonical (length-first) order, CIDs as tag 42, integers in their
 * shortest form (bigint for values past 2^53), {@link BinaryString} as raw text-string bytes.
 */
export function encodeDagCbor(value: unknown): Uint8Array {
  return encode(value, encodeOptions)
}

/**
 * Decodes exactly one DAG-CBOR value. Accepts keys in any order (older cbor-gen peers write struct
 * order) and non-UTF-8 text strings; integers past 2^53 come back as bigint.
 */
export function decodeDagCbor(bytes: Uint8Array): unknown {
  const [value, rest] = decodeDagCborFirst(bytes)
  if (rest.byteLength !== 0) throw new Error(`${rest.byteLength} bytes after the DAG-CBOR value`)
  return value
}

/** Decodes the first DAG-CBOR value of `bytes` and returns it with what follows. */
export function decodeDagCborFirst(bytes: Uint8Array): [unknown, Uint8Array] {
  return decodeFirst(bytes, { ...decodeOptions, tokenizer: new TolerantTokenizer(bytes) })
}
