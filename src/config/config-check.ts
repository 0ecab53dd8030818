// What `command-center config check` needs: a verdict and every issue, without throwing.

import type { AppConfig } from './config-types.js';
import type { ConfigIssue } from './config-issues.js';
import { resolveConfig } from './config-loader.js';

export interface ConfigCheck {
  ok: boolean;
  issues: ConfigIssue[];
  config?: AppConfig;
}

export function checkConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
): ConfigCheck {
  const { config, issues } = resolveConfig({ file, env });
  return config ? { ok: true, issues, config } : { ok: false, issues };
}
