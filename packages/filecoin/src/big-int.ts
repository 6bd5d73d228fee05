// Filecoin big-int bytes live in @autoretrieve/chain (token amounts are chain types); this
// package's codecs and callers keep importing them from here.
export { decodeBigIntBytes, encodeBigIntBytes } from '@autoretrieve/chain'
