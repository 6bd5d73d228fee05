/** Bad usage of a command: exit code 2. */
export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
  code = 'ERR_USAGE'
}

export class IdentityError extends Error {
  static override name = 'IdentityError'
  override name = 'IdentityError'
  code = 'ERR_IDENTITY'
}

/** A resource the node needs at start is not available (port in use, data dir not writable). */
export class StartupError extends Error {
  static override name = 'StartupError'
  override name = 'StartupError'
  code = 'ERR_STARTUP'
}

/** register-estuary could not find the public IP for a wildcard listen address. */
export class PublicIpError extends Error {
  static override name = 'PublicIpError'
  override name = 'PublicIpError'
  code = 'ERR_PUBLIC_IP'
}

/** `cache import` handed off to the node running on the data dir, and that node's admin API did not answer. */
export class NodeUnreachableError extends Error {
  static override name = 'NodeUnreachableError'
  override name = 'NodeUnreachableError'
  code = 'ERR_NODE_UNREACHABLE'
}

/** A command that needs Lotus (FULLNODE_API_INFO) could not get an answer from it. */
export class LotusUnavailableError extends Error {
  static override name = 'LotusUnavailableError'
  override name = 'LotusUnavailableError'
  code = 'ERR_LOTUS_UNAVAILABLE'
}
