/**
 * `ser cache info|clear [--cache DIR] [--older-than DAYS] [--json]`: the feature cache's size, and reclaiming it.
 * Entries are keyed by the code that computed them too (`featureCodeDigest`), so after an upgrade the old ones are
 * never read again; `clear` removes them (all, or those written more than DAYS ago).
 */
import type { Command } from 'commander';
import { FeatureCache } from '../../features/cache.js';
import { defaultCacheDir } from '../../train/dataset.js';
import { SerError } from '../../util/errors.js';

interface CacheFlags { cache?: string; olderThan?: string; json?: boolean }

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const day = 86_400_000;

export function register(program: Command): void {
  const cmd = program.command('cache').description('the feature cache: how big it is (info), and removing entries (clear)');
  cmd
    .command('info')
    .description('entries, size and age of the feature cache')
    .option('--cache <dir>', 'feature cache folder (default: $SER_CACHE_DIR or .cache/features)')
    .option('--json', 'one JSON object {dir, entries, bytes, oldest, newest}')
    .action((flags: CacheFlags) => {
      const cache = new FeatureCache({ dir: flags.cache ?? defaultCacheDir() });
      const u = cache.usage();
      const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ dir: cache.dir, entries: u.entries, bytes: u.bytes, oldest: iso(u.oldest), newest: iso(u.newest) })}\n`);
        return;
      }
      process.stdout.write(`${cache.dir}: ${u.entries} entries, ${mb(u.bytes)}` + (u.entries ? `, written ${iso(u.oldest)} – ${iso(u.newest)}` : '') + '\n');
    });
  cmd
    .command('clear')
    .description('remove the cache\'s entries (all, or those written more than --older-than days ago); they are recomputed when needed')
    .option('--cache <dir>', 'feature cache folder (default: $SER_CACHE_DIR or .cache/features)')
    .option('--older-than <days>', 'only entries written more than this many days ago')
    .option('--json', 'one JSON object {dir, removed, bytes}')
    .action((flags: CacheFlags) => {
      let before = Number.POSITIVE_INFINITY;
      if (flags.olderThan !== undefined) {
        const d = Number(flags.olderThan);
        if (!(d >= 0) || !Number.isFinite(d)) throw new SerError('cli/bad-option', `--older-than must be a number of days >= 0, got "${flags.olderThan}"`);
        before = Date.now() - d * day;
      }
      const cache = new FeatureCache({ dir: flags.cache ?? defaultCacheDir() });
      const r = cache.prune(before);
      if (flags.json) process.stdout.write(`${JSON.stringify({ dir: cache.dir, removed: r.entries, bytes: r.bytes })}\n`);
      else process.stdout.write(`${cache.dir}: removed ${r.entries} entries, ${mb(r.bytes)}\n`);
    });
}
