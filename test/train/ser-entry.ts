// Runs the `ser` CLI from sources (for tests that spawn a real child process): node --import tsx test/train/ser-entry.ts ARGS
import { main } from '../../src/cli/index.js';

await main(process.argv);
