/**
 * Runs the built CLI (dist/cli.js, built by `npm test`'s pretest) as a real child process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export function writeTemp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bw-cli-')), name);
  writeFileSync(file, text);
  return file;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 10_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RunningGateway {
  readonly child: ChildProcess;
  readonly proxyPort: number;
  readonly adminPort: number;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

/** Starts `breakwater --config file` and resolves once it logs its listening addresses. */
export function startCli(file: string, env: NodeJS.ProcessEnv = {}): Promise<RunningGateway> {
  const child = spawn(process.execPath, [CLI, '--config', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        if (line.msg === 'breakwater started') {
          const proxy = line.proxy as { port: number };
          const admin = line.admin as { port: number };
          resolve({ child, proxyPort: proxy.port, adminPort: admin.port, lines, exited });
        }
      }
    });
    void exited.then((code) => reject(new Error(`gateway exited with ${code}: ${stderr}`)));
  });
}
