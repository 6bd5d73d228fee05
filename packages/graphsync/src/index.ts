export { BinaryString, decodeDagCbor, decodeDagCborFirst, encodeDagCbor } from './cbor.ts'
