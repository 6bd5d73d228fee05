/**
 * @autoretrieve/estuary: this node's side of Estuary (specs/estuary-autoretrieve.md).
 * `registerWithEstuary` registers the peer key and addresses and returns the heartbeat token;
 * `createHeartbeat` keeps Estuary told that the node is online (a beat at start, then at half of
 * the advertise interval Estuary answers, a retry delay after a failure) and reports its state.
 * Every request is bounded in time and size; the token is never logged or shown.
 */
export { lookupPublicIp, type RegistrationAnswer, type RequestOptions, registerWithEstuary } from './client.ts'
export { DEFAULT_ESTUARY_TIMEOUT_MS, DEFAULT_IP_LOOKUP_URL } from './constants.ts'
export { EstuaryAnswerError, EstuaryStatusError, EstuaryUnreachableError, HeartbeatDisabledError } from './errors.ts'
export {
  createHeartbeat,
  type Heartbeat,
  type HeartbeatComponents,
  type HeartbeatInit,
  type HeartbeatState,
  type HeartbeatStatus
} from './heartbeat.ts'
