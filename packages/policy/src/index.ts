/**
 * @autoretrieve/policy: the operator's policy as one immutable, versioned snapshot, and the pure
 * decisions every other part asks of it (is this CID denied, may this provider be contacted,
 * which limits apply). Loading and storing the policy live in config and store.
 */
export { createPolicyHolder, type PolicyHolder, type PolicyListener } from './holder.ts'
export { type ConfigPolicy, mergePolicy, type OverrideList, type PolicyOverrides } from './merge.ts'
export {
  cidKey,
  createSnapshot,
  isCidDenied,
  minerConfigFor,
  providerVerdict,
  type SnapshotInit
} from './snapshot.ts'
export type * from './types.ts'
