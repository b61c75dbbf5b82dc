/**
 * Boots the real gateway on 127.0.0.1:0 from an inline YAML string and collects its log lines.
 */
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load';
import { Gateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';

export interface TestGateway {
  readonly gateway: Gateway;
  /** http://127.0.0.1:PORT of the proxy listener. */
  readonly url: string;
  readonly port: number;
  readonly adminUrl: string;
  /** Parsed log lines, newest last. */
  readonly logs: Record<string, unknown>[];
  /** Access lines only (those with a reqId and a status). */
  accessLines(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** `yaml` may omit `version` and `server`; listeners default to 127.0.0.1:0. */
export async function startGateway(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<TestGateway> {
  const text = withTestDefaults(yaml);
  const config = parseConfig(text, 'test.yaml', env);
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ stream, level: 'info' });
  const gateway = await Gateway.start(config, { logger });
  const port = gateway.proxyAddress.port;
  return {
    gateway,
    url: `http://127.0.0.1:${port}`,
    port,
    adminUrl: `http://127.0.0.1:${gateway.adminAddress!.port}`,
    logs,
    accessLines: () => logs.filter((l) => typeof l.reqId === 'string' && typeof l.status === 'number'),
    close: async () => {
      await gateway.drain();
    },
  };
}

/**
 * Fills in what tests rarely care about: version, loopback listeners on free ports, and
 * event-loop shedding off (on a loaded 2-core CI machine a GC pause or a busy neighbour would
 * otherwise turn a request into a 503 OVERLOADED). Tests of shedding set `overload` themselves.
 */
function withTestDefaults(yaml: string): string {
  let text = yaml;
  if (!/^version:/m.test(text)) text = `version: 1\n${text}`;
  if (!/^server:/m.test(text))
    text = `${text}\nserver:\n  listen: 127.0.0.1:0\n  admin:\n    listen: 127.0.0.1:0\n`;
  if (!/maxEventLoopDelay/.test(text)) {
    if (/^server:\s*$/m.test(text))
      text = text.replace(/^server:\s*$/m, 'server:\n  overload: { maxEventLoopDelay: 0 }');
    else text = text.replace(/^server: \{/m, 'server: { overload: { maxEventLoopDelay: 0 },');
  }
  return text;
}
