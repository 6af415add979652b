import type { Command } from 'commander';
import { registerBench as features } from './features.js';
import { registerBench as train } from './train.js';
import { registerBench as predict } from './predict.js';
import { registerBench as server } from './server.js';
import { registerBench as timeline } from './timeline.js';
import { registerBench as batch } from './batch.js';

export const benchCommands: Array<(bench: Command) => void> = [features, train, predict, server, timeline, batch];
