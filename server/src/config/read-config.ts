import { AppConfig, ConfigError, loadConfig } from './app-config';

/** For entrypoints: a bad environment stops the process with a message naming each variable. */
export function readConfigOrExit(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\nSee the configuration reference in README.md.\n`);
    process.exit(78); // EX_CONFIG
  }
}
