/**
 * A request ID as a map key: its bytes in hex. Not a content key (`multihashKey` is for those):
 * request IDs are 16-byte UUIDs that live as long as one request.
 */
export const idKey = (id: Uint8Array): string => Buffer.from(id).toString('hex')
