/** The list of CLI commands, in the order `ser --help` shows them. One file per command. */
import type { Command } from 'commander';
import { register as features } from './features.js';
import { register as explore } from './explore.js';
import { register as train } from './train.js';
import { register as evaluate } from './evaluate.js';
import { register as evaluateTimeline } from './evaluate-timeline.js';
import { register as experiments } from './experiments.js';
import { register as study } from './study.js';
import { register as predict } from './predict.js';
import { register as listen } from './listen.js';
import { register as serve } from './serve.js';
import { register as queue } from './queue.js';
import { register as worker } from './worker.js';
import { register as bench } from './bench.js';
import { register as cache } from './cache.js';

export const commands: Array<(program: Command) => void> = [
  features,
  explore,
  train,
  evaluate,
  evaluateTimeline,
  experiments,
  study,
  predict,
  listen,
  serve,
  queue,
  worker,
  bench,
  cache,
];
