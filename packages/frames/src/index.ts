/**
 * @autoretrieve/frames: varint-length-prefixed frames, the one reader (bounded before it buffers)
 * and the one writer. Bitswap and Graphsync read their streams through it (Filecoin data-transfer frames
 * nothing: its messages are bare DAG-CBOR values, read by the filecoin package).
 */
export { FrameTooLargeError, MalformedFrameError } from './errors.ts'
export { type ReadFramesOptions, readFrames } from './read-frames.ts'
export { encodeFrame, uvarintBytes } from './write-frame.ts'
