#!/usr/bin/env node
/**
 * @module cli
 * The `breakwater` command: start, validate, routes, --version, --help. Exit codes: 0 fine,
 * 1 bad config (or a drain cut short), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors';
import { loadConfig } from './config/load';
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
    case 'routes':
      return checkConfig(command.kind, command.config, env);
    case 'start':
      return runGateway(command.config, env);
  }
}

function checkConfig(kind: 'validate' | 'routes', file: string, env: NodeJS.ProcessEnv): number {
  try {
    const config = loadConfig(file, env);
    if (kind === 'validate') {
      const routes = config.routes.length;
      const upstreams = Object.keys(config.upstreams).length;
      process.stdout.write(`${file}: ok (${routes} routes, ${upstreams} upstreams)\n`);
    } else {
      const table = buildRouteTable(config, NO_EVENTS);
      process.stdout.write(`${formatRouteTable(table)}\n`);
      for (const upstream of table.upstreams.values()) void upstream.destroy();
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      `${err.message}\n${err.issues.length} problem${err.issues.length === 1 ? '' : 's'} in ${file}\n`,
    );
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
