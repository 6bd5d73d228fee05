// TransferMessage1_1 (go-data-transfer v2, message1_1prime/schema.ipldsch) as typed values, its
// IPLD data-model form (what travels inline in Graphsync extensions) and its DAG-CBOR bytes.
import { decodeDagCbor, encodeDagCbor } from '@autoretrieve/graphsync'
import type { CID } from 'multiformats/cid'
import { MalformedTransferMessageError } from './errors.ts'
import {
  intNode,
  malformed,
  readBool,
  readNullableLink,
  readString,
  readStringBytes,
  readStruct,
  readUint,
  readUint64,
  stringNode
} from './node.ts'

/** Message types, shared by requests and responses (go-data-transfer `message/types`). */
export const MessageType = Object.freeze({
  New: 0,
  Update: 1,
  Cancel: 2,
  Complete: 3,
  Voucher: 4,
  VoucherResult: 5,
  Restart: 6,
  RestartExistingChannelRequest: 7
} as const)
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/**
 * A data-transfer channel: (initiator, responder, transfer ID). The peers are raw binary peer IDs
 * (multihash bytes, `peerId.toMultihash().bytes`), carried on the wire in CBOR text strings.
 */
export interface ChannelId {
  initiator: Uint8Array
  responder: Uint8Array
  id: bigint
}

export interface TransferRequest {
  /** `Type`: a {@link MessageType} (kept as a number: a peer may send one we do not know). */
  type: number
  /** `BCid`: the root, set for New and Restart. */
  baseCid: CID | null
  /** `Paus`: the initiator paused (Update). */
  paused: boolean
  /** `Part`: unused for retrieval. */
  partial: boolean
  /** `Pull`: true for a retrieval (the client pulls). */
  pull: boolean
  /** `Stor`: the selector, an IPLD data-model value. */
  selector: unknown
  /** `Vouch`: the voucher, an IPLD data-model value (e.g. {@link dealProposalToNode}). */
  voucher: unknown
  /** `VTyp`: the voucher's type name, `''` when there is none. */
  voucherType: string
  /** `XferID`. */
  transferId: bigint
  /** `RestartChannel`: empty peers and 0 unless the type is RestartExistingChannelRequest. */
  restartChannel: ChannelId
}

export interface TransferResponse {
  /** `Type`: a {@link MessageType}. */
  type: number
  /** `Acpt`. */
  accepted: boolean
  /** `Paus`: the responder paused (payment, unsealing, finalisation). */
  paused: boolean
  /** `XferID`: echoes the request's. */
  transferId: bigint
  /** `VRes`: the voucher result, an IPLD data-model value (e.g. a DealResponse map). */
  voucherResult: unknown
  /** `VTyp`: the voucher result's type name, `''` when there is none. */
  voucherType: string
}

/**
 * One data-transfer message: a request or a response. (The wire form also has a slot for the
 * other kind, always null from Go peers; it is ignored on decode and written as null.)
 */
export type TransferMessage =
  | { isRequest: true; request: TransferRequest }
  | { isRequest: false; response: TransferResponse }

const MESSAGE_KEYS = ['IsRq', 'Request', 'Response'] as const
const REQUEST_KEYS = [
  'BCid',
  'Type',
  'Paus',
  'Part',
  'Pull',
  'Stor',
  'Vouch',
  'VTyp',
  'XferID',
  'RestartChannel'
] as const
const RESPONSE_KEYS = ['Type', 'Acpt', 'Paus', 'XferID', 'VRes', 'VTyp'] as const

/** The channel of a normal request: `["", "", 0]`. */
export function emptyChannelId(): ChannelId {
  return { initiator: new Uint8Array(0), responder: new Uint8Array(0), id: 0n }
}

function channelIdFromNode(value: unknown): ChannelId {
  const where = 'TransferRequest.RestartChannel'
  if (!Array.isArray(value) || value.length !== 3) throw malformed(where, 'a list of 3 (ChannelID)', value)
  return {
    initiator: readStringBytes(`${where}[0] (Initiator)`, value[0]),
    responder: readStringBytes(`${where}[1] (Responder)`, value[1]),
    id: readUint64(`${where}[2] (ID)`, value[2])
  }
}

function channelIdToNode(channel: ChannelId): unknown[] {
  return [
    stringNode(channel.initiator),
    stringNode(channel.responder),
    intNode(channel.id, 'TransferRequest.RestartChannel.ID')
  ]
}

function requestFromNode(value: unknown): TransferRequest {
  const map = readStruct('TransferRequest', value, REQUEST_KEYS)
  return {
    type: readUint('TransferRequest.Type', map.Type),
    baseCid: readNullableLink('TransferRequest.BCid', map.BCid),
    paused: readBool('TransferRequest.Paus', map.Paus),
    partial: readBool('TransferRequest.Part', map.Part),
    pull: readBool('TransferRequest.Pull', map.Pull),
    selector: map.Stor,
    voucher: map.Vouch,
    voucherType: readString('TransferRequest.VTyp', map.VTyp),
    transferId: readUint64('TransferRequest.XferID', map.XferID),
    restartChannel: channelIdFromNode(map.RestartChannel)
  }
}

function responseFromNode(value: unknown): TransferResponse {
  const map = readStruct('TransferResponse', value, RESPONSE_KEYS)
  return {
    type: readUint('TransferResponse.Type', map.Type),
    accepted: readBool('TransferResponse.Acpt', map.Acpt),
    paused: readBool('TransferResponse.Paus', map.Paus),
    transferId: readUint64('TransferResponse.XferID', map.XferID),
    voucherResult: map.VRes,
    voucherType: readString('TransferResponse.VTyp', map.VTyp)
  }
}

function requestToNode(request: TransferRequest): Record<string, unknown> {
  return {
    BCid: request.baseCid,
    Type: request.type,
    Paus: request.paused,
    Part: request.partial,
    Pull: request.pull,
    Stor: request.selector ?? null,
    Vouch: request.voucher ?? null,
    VTyp: request.voucherType,
    XferID: intNode(request.transferId, 'TransferRequest.XferID'),
    RestartChannel: channelIdToNode(request.restartChannel)
  }
}

function responseToNode(response: TransferResponse): Record<string, unknown> {
  return {
    Type: response.type,
    Acpt: response.accepted,
    Paus: response.paused,
    XferID: intNode(response.transferId, 'TransferResponse.XferID'),
    VRes: response.voucherResult ?? null,
    VTyp: response.voucherType
  }
}

/**
 * Reads a TransferMessage1_1 from its IPLD data-model form (an extension value, or what
 * decodeDagCbor gave). Every key is required, in any order; unknown keys are refused.
 * Throws {@link MalformedTransferMessageError}.
 */
export function transferMessageFromNode(value: unknown): TransferMessage {
  const map = readStruct('TransferMessage', value, MESSAGE_KEYS)
  const isRequest = readBool('TransferMessage.IsRq', map.IsRq)
  if (isRequest) {
    if (map.Request === null)
      throw new MalformedTransferMessageError('TransferMessage: IsRq is true but Request is null')
    return { isRequest, request: requestFromNode(map.Request) }
  }
  if (map.Response === null)
    throw new MalformedTransferMessageError('TransferMessage: IsRq is false but Response is null')
  return { isRequest, response: responseFromNode(map.Response) }
}

/**
 * The IPLD data-model form of a message, to put inline in a Graphsync extension. Integers past
 * 2^53 are bigints and non-UTF-8 peer IDs are BinaryStrings, as decodeDagCbor gives them.
 */
export function transferMessageToNode(message: TransferMessage): Record<string, unknown> {
  return message.isRequest
    ? { IsRq: true, Request: requestToNode(message.request), Response: null }
    : { IsRq: false, Request: null, Response: responseToNode(message.response) }
}

/** DAG-CBOR bytes of a message (canonical key order): one message per `/fil/datatransfer/1.2.0` stream. */
export function encodeTransferMessage(message: TransferMessage): Uint8Array {
  return encodeDagCbor(transferMessageToNode(message))
}

/** Decodes exactly one DAG-CBOR TransferMessage. Throws {@link MalformedTransferMessageError}. */
export function decodeTransferMessage(bytes: Uint8Array): TransferMessage {
  let value: unknown
  try {
    value = decodeDagCbor(bytes)
  } catch (cause) {
    throw new MalformedTransferMessageError(`TransferMessage: not DAG-CBOR: ${(cause as Error).message}`, { cause })
  }
  return transferMessageFromNode(value)
}
