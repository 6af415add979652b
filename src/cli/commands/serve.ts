/**
 * `ser serve [--port 8080] [--host 127.0.0.1] [--model DIR] [--max-body-mb] [--max-duration-sec]
 * [--max-concurrent] [--max-queue] [--timeout-ms]`: the HTTP API and the web app.
 */
import type { Command } from 'commander';
import { buildServer, SERVER_DEFAULTS } from '../../server/app.js';
import { ensureWebBundle } from '../../server/static.js';
import { SerError } from '../../util/errors.js';

function num(name: string, { integer = false, min = 0 } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new SerError('cli/bad-option', `--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${v}"`);
    }
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API (POST /api/predict, GET /api/health, GET /api/model) and the web app')
    .option('--port <n>', 'port (0 = any free port)', num('port', { integer: true }), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--model <dir>', 'model folder (default: the bundled models/default)')
    .option('--max-body-mb <n>', 'largest upload in MB (413 beyond)', num('max-body-mb', { min: 0.001 }), SERVER_DEFAULTS.maxBodyMb)
    .option('--max-duration-sec <n>', 'longest audio in seconds (413 beyond)', num('max-duration-sec', { min: 0.001 }), SERVER_DEFAULTS.maxDurationSec)
    .option('--max-concurrent <n>', 'predictions running at once', num('max-concurrent', { integer: true, min: 1 }), SERVER_DEFAULTS.maxConcurrent)
    .option('--max-queue <n>', 'predictions waiting for a slot (429 beyond)', num('max-queue', { integer: true }), SERVER_DEFAULTS.maxQueue)
    .option('--timeout-ms <n>', 'per-request deadline in ms (504 beyond)', num('timeout-ms', { integer: true, min: 1 }), SERVER_DEFAULTS.timeoutMs)
    .option('--no-web-build', 'do not (re)build the web bundle at startup')
    .action(async (opts: { port: number; host: string; model?: string; maxBodyMb: number; maxDurationSec: number; maxConcurrent: number; maxQueue: number; timeoutMs: number; webBuild: boolean }) => {
      if (opts.webBuild) console.error(`ser serve: ${await ensureWebBundle()}`);
      const app = await buildServer({
        modelDir: opts.model,
        maxBodyMb: opts.maxBodyMb,
        maxDurationSec: opts.maxDurationSec,
        maxConcurrent: opts.maxConcurrent,
        maxQueue: opts.maxQueue,
        timeoutMs: opts.timeoutMs,
      });
      const address = await app.listen({ port: opts.port, host: opts.host });
      console.log(`ser serve: listening on ${address}/ (API at ${address}/api/predict)`);
      const stop = () => {
        void app.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
