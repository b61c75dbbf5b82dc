#!/usr/bin/env node
/**
 * @module cli
 * The `breakwater` command: start, validate, routes, --version, --help. Exit codes: 0 fine,
 * 1 bad config (or a drain cut short), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, formatConfigIssue, type ConfigIssue } from './errors';
import { loadConfigWithWarnings } from './config/load';
import { buildRouteTable } from './pipeline/build';
import { NO_EVENTS } from './observability/events';
import { formatRouteTable } from './cli/routes-table';
import { parseArgs, UsageError, USAGE, type Command } from './cli/args';
import { runGateway } from './main';

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs one command; resolves with the exit code (start resolves only when it should exit). */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let command: Command;
  try {
    command = parseArgs(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`breakwater: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  switch (command.kind) {
    case 'version':
      process.stdout.write(`breakwater ${version()}\n`);
      return 0;
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'validate':
      return checkConfig(command.kind, command.config, env, command.strict);
    case 'routes':
      return checkConfig(command.kind, command.config, env, false);
    case 'start':
      return runGateway(command.config, env);
  }
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Warnings go to stderr after any errors, one `file:line:col: path: warning: message` each. */
function printWarnings(warnings: readonly ConfigIssue[]): void {
  if (warnings.length > 0) process.stderr.write(`${warnings.map(formatConfigIssue).join('\n')}\n`);
}

function checkConfig(
  kind: 'validate' | 'routes',
  file: string,
  env: NodeJS.ProcessEnv,
  strict: boolean,
): number {
  try {
    const { config, warnings } = loadConfigWithWarnings(file, env);
    printWarnings(warnings);
    if (kind === 'validate') {
      if (strict && warnings.length > 0) {
        process.stderr.write(`${count(warnings.length, 'warning')} in ${file}; --strict fails on warnings\n`);
        return 1;
      }
      const routes = config.routes.length;
      const upstreams = Object.keys(config.upstreams).length;
      const noted = warnings.length > 0 ? `, ${count(warnings.length, 'warning')}` : '';
      process.stdout.write(`${file}: ok (${routes} routes, ${upstreams} upstreams${noted})\n`);
    } else {
      const table = buildRouteTable(config, NO_EVENTS);
      process.stdout.write(`${formatRouteTable(table)}\n`);
      for (const upstream of table.upstreams.values()) void upstream.destroy();
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    printWarnings(err.warnings);
    const warned = err.warnings.length > 0 ? ` and ${count(err.warnings.length, 'warning')}` : '';
    process.stderr.write(`${count(err.issues.length, 'problem')}${warned} in ${file}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `breakwater: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
