/**
 * @autoretrieve/frames: the one reader of varint-length-prefixed frames, bounded before it
 * buffers. Bitswap, Graphsync and Filecoin data-transfer read their streams through it.
 */
export { FrameTooLargeError, MalformedFrameError } from './errors.ts'
export { type ReadFramesOptions, readFrames } from './read-frames.ts'
