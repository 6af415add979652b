/**
 * `ser bench <what>`: benchmarks. Each subcommand lives in its own file (bench-*.ts) and
 * exports `registerBench(bench)`; they print figures for BENCHMARKS.md, never assert timings.
 */
import type { Command } from 'commander';
import { benchCommands } from './bench/index.js';

export function register(program: Command): void {
  const bench = program.command('bench').description('benchmarks: features, train, predict, server, batch');
  for (const r of benchCommands) r(bench);
}
