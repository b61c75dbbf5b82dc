/**
 * @module cli/args
 * argv → what to do. Usage errors are reported with exit code 2 (DESIGN.md).
 */
export type Command =
  | { kind: 'start'; config: string }
  /** strict: warnings fail the check too (exit 1). */
  | { kind: 'validate'; config: string; strict: boolean }
  | { kind: 'routes'; config: string }
  | { kind: 'version' }
  | { kind: 'help' };

export class UsageError extends Error {}

export const USAGE = `Usage:
  breakwater [--config gateway.yaml]     start the gateway (default ./gateway.yaml or $BREAKWATER_CONFIG)
  breakwater validate [--strict] [gateway.yaml]
                                         check a config; print every error and warning as file:line:col;
                                         exit 1 on errors (--strict: on warnings too), else 0
  breakwater routes [gateway.yaml]       print the compiled route table and each route's policy chain
  breakwater --version | --help

Signals: SIGTERM/SIGINT drain and exit, SIGHUP reloads the config. LOG_LEVEL sets the log level.`;

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const defaultConfig = env.BREAKWATER_CONFIG || 'gateway.yaml';
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') return { kind: 'version' };
  if (first === '--help' || first === '-h' || first === 'help') return { kind: 'help' };
  if (first === 'validate') {
    const files = rest.filter((arg) => arg !== '--strict');
    if (files.length > 1) throw new UsageError(`validate takes at most one file, got: ${files.join(' ')}`);
    return { kind: first, config: files[0] ?? defaultConfig, strict: files.length < rest.length };
  }
  if (first === 'routes') {
    if (rest.length > 1) throw new UsageError(`${first} takes at most one file, got: ${rest.join(' ')}`);
    return { kind: first, config: rest[0] ?? defaultConfig };
  }
  return { kind: 'start', config: parseStartFlags(argv, defaultConfig) };
}

function parseStartFlags(argv: readonly string[], defaultConfig: string): string {
  let config = defaultConfig;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config' || arg === '-c') {
      const value = argv[++i];
      if (!value) throw new UsageError('--config needs a file name');
      config = value;
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
    } else {
      throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  return config;
}
