/**
 * @autoretrieve/config: the node's settings from config.yaml, environment and flags (in that
 * order of precedence), validated at the edge into one plain typed object. A config.yaml written
 * for the Go autoretrieve loads unchanged; errors name the key, the file and the line. It also
 * renders the config back to YAML (gen-config, print-config with secrets redacted), sets keys in
 * config.yaml keeping its comments (register-estuary), keeps the admin token file, and parses the
 * Go-style durations and byte sizes the other packages read.
 */
export { ADMIN_TOKEN_FILE, CONFIG_FILE, DEFAULT_LISTEN_ADDRS, DEFAULTS } from './constants.ts'
export { ConfigError, ConfigExistsError } from './errors.ts'
export { ensureAdminToken, updateConfigKeys, writeConfigYaml } from './files.ts'
export { type ConfigWarning, KEYS, LEGACY_KEYS, MINER_KEYS } from './keys.ts'
export { applyYaml, loadConfig, resolveDataDir } from './load.ts'
export { defaultConfigYaml, renderConfigYaml } from './render.ts'
export type { AutoretrieveConfig, ConfigFlags, LoadedConfig, MinerConfig, RetrievalProtocol } from './types.ts'
export { formatByteSize, formatDuration, parseByteSize, parseDuration, UnitError } from './units.ts'
export { isProviderId } from './values.ts'
