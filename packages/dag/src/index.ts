/**
 * @autoretrieve/dag: the links of a block (dag-pb, dag-cbor, raw) and a depth-first walk over a
 * DAG in the order trustless CARs and graphsync carry it. Used to verify retrievals, to resume
 * from the cache and by `check-cid`.
 */
export { BlockDecodeError, blockLinks, codecName } from './links.ts'
export { checkDag, type DagCheck, type WalkStep, walkDag } from './walk.ts'
