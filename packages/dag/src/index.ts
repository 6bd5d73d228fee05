/**
 * @autoretrieve/dag: the links of a block (dag-pb, dag-cbor, raw) and a depth-first walk over a
 * DAG in the order trustless CARs and graphsync carry it, each block once (by multihash). The
 * retriever follows links to verify a CAR and to fetch a DAG over Bitswap; `check-cid` and
 * `fetch` walk the cache; the testkit's provider writes its CARs in this order. `readCar` is the bounded
 * CARv1 reader for every CAR that comes in (providers, `cache import`).
 */
export { BlockDecodeError, blockLinks, codecName } from './links.ts'
export {
  CarBlockTooLargeError,
  CarHeaderTooLargeError,
  type CarStream,
  MalformedCarError,
  type ReadCarOptions,
  readCar
} from './read-car.ts'
export { checkDag, type DagCheck, type WalkStep, walkDag } from './walk.ts'
