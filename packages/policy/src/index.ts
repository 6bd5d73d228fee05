/**
 * @autoretrieve/policy: the operator's policy as one immutable, versioned snapshot and the pure
 * decisions every other part asks of it: is this CID denied (by multihash, so every CID version
 * matches), may this provider be contacted (deny and allow lists, by peer ID or miner address),
 * which limits apply to it, which retrieval protocols are enabled. `mergePolicy` builds a snapshot
 * from config.yaml and the admin API's stored overrides; a `PolicyHolder` holds the current one,
 * swaps it whole and tells subscribers. Reading config.yaml and storing overrides live in config
 * and store. `layer.ts` gives a config.yaml layer's canonical form, digest and differences, so
 * the layer can be stored with a version and a differing file reported.
 */

export { createPolicyHolder, type PolicyHolder, type PolicyListener } from './holder.ts'
export {
  type CanonicalLayer,
  canonicalLayer,
  diffLayers,
  type LayerDifference,
  layerDigest,
  layerPolicy
} from './layer.ts'
export { type ConfigPolicy, mergePolicy, type OverrideList, type PolicyOverrides } from './merge.ts'
export {
  cidDenial,
  createSnapshot,
  isCidDenied,
  isFilecoinAddress,
  minerAddressesOf,
  minerConfigFor,
  providerVerdict,
  type SnapshotInit,
  unresolvedDenials,
  withResolutions
} from './snapshot.ts'
export type * from './types.ts'
