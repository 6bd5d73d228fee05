/**
 * @autoretrieve/frames: the one reader of varint-length-prefixed frames, bounded before it
 * buffers. Bitswap and Graphsync read their streams through it (Filecoin data-transfer frames
 * nothing: its messages are bare DAG-CBOR values, read by the filecoin package).
 */
export { FrameTooLargeError, MalformedFrameError } from './errors.ts'
export { type ReadFramesOptions, readFrames } from './read-frames.ts'
