// The two ways the Lotus stand-in says no: a JSON-RPC error (the call itself is refused, worded
// as Lotus words it) and an actor error (the message lands on chain with a non-zero exit code).

/** A refused JSON-RPC call. `code` 1 is what go-jsonrpc gives any error a method returns. */
export class RpcError extends Error {
  static override name = 'RpcError'
  override name = 'RpcError'
  readonly code: number

  constructor(message: string, code = 1) {
    super(message)
    this.code = code
  }
}

/** An actor method's abort: the receipt's exit code and what went wrong (kept in the message log). */
export class ActorError extends Error {
  static override name = 'ActorError'
  override name = 'ActorError'
  readonly exitCode: number

  constructor(exitCode: number, message: string) {
    super(message)
    this.exitCode = exitCode
  }
}
