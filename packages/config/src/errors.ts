/** An invalid config value. The message is the one line the CLI prints before exiting 2. */
export class ConfigError extends Error {
  static override name = 'ConfigError'
  override name = 'ConfigError'
  readonly code = 'ERR_CONFIG_INVALID'
  readonly key?: string
  readonly file?: string
  readonly line?: number
  constructor(message: string, where: { key?: string; file?: string; line?: number } = {}, options?: ErrorOptions) {
    super(message, options)
    this.key = where.key
    this.file = where.file
    this.line = where.line
  }
}

/** gen-config would overwrite an existing file without --force. */
export class ConfigExistsError extends Error {
  static override name = 'ConfigExistsError'
  override name = 'ConfigExistsError'
  readonly code = 'ERR_CONFIG_EXISTS'
}
