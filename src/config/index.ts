// Configuration: one schema, loaded from defaults, a file, CC_* environment variables and flags.
export type { AppConfig, PortRange } from './config-types.js';
export { loadConfig, resolveConfig, type LoadOptions, type LoadResult } from './config-loader.js';
export { checkConfig, type ConfigCheck } from './config-check.js';
export { ConfigError, formatConfigIssues, type ConfigIssue } from './config-issues.js';
export { CONFIG_SCHEMA, envName, keyForEnvName, listFields } from './config-schema.js';
export { APP_CONFIG_SCHEMA, isAppConfig } from './config-json-schema.js';
export { renderConfigReference } from './config-reference.js';
