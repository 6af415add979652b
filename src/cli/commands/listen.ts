/**
 * `ser listen [--encoding s16le --rate 16000 --channels 1 | --encoding wav]`: a live timeline from
 * standard input. Reads audio as it arrives (piped from arecord, sox, ffmpeg, or a file) and prints one
 * JSON line per finished speech segment — {"type":"segment", start, end, speech, emotion,
 * probabilities, confidence, latencySec, computeSec} — and at the end of input
 * {"type":"end","timeline":{…}} (the schema of `ser predict --timeline --json`).
 * `--encoding auto` (default) reads a WAV header when the input starts with RIFF, else raw s16le.
 *
 *   arecord -f S16_LE -r 16000 -c 1 -t raw | npx ser listen --rate 16000
 *   sox -d -t wav - | npx ser listen
 *   ffmpeg -i talk.mp3 -f s16le -ac 1 -ar 16000 - | npx ser listen --rate 16000
 */
import type { Command } from 'commander';
import { PCM_ENCODINGS, PcmStreamDecoder, type PcmEncoding } from '../../audio/pcm.js';
import { Classifier } from '../../infer/classifier.js';
import { TimelineStream } from '../../infer/timeline.js';
import { SerError } from '../../util/errors.js';
import { intFlag } from './train.js';

interface ListenFlags {
  model?: string;
  encoding: string;
  rate: number;
  channels: number;
}

export function register(program: Command): void {
  program
    .command('listen')
    .description('live timeline from standard input (raw PCM or WAV as it arrives): one JSON line per finished speech segment')
    .option('--model <dir>', 'model folder (default: the bundled models/default)')
    .option('--encoding <name>', `input encoding: auto, wav, ${PCM_ENCODINGS.join(', ')}`, 'auto')
    .option('--rate <hz>', 'sample rate of raw PCM input', intFlag('rate', 4000), 16000)
    .option('--channels <n>', 'channels of raw PCM input (mixed to mono)', intFlag('channels'), 1)
    .action(async (flags: ListenFlags) => {
      await listen(flags, process.stdin, (line) => process.stdout.write(JSON.stringify(line) + '\n'));
    });
}

/** The body of `ser listen` over any byte stream (tests feed it directly). */
export async function listen(flags: ListenFlags, input: AsyncIterable<Uint8Array | string>, emit: (line: Record<string, unknown>) => void): Promise<void> {
  const enc = flags.encoding;
  if (enc !== 'auto' && enc !== 'wav' && !PCM_ENCODINGS.includes(enc as PcmEncoding)) {
    throw new SerError('cli/bad-option', `--encoding must be auto, wav or one of ${PCM_ENCODINGS.join(', ')}, got "${enc}"`);
  }
  const clf = await Classifier.load(flags.model);
  let decoder: PcmStreamDecoder | null = null;
  let stream: TimelineStream | null = null;
  let head = new Uint8Array(0);
  try {
    for await (const chunk of input) {
      const receivedAt = performance.now();
      let bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
      if (!decoder) {
        if (enc === 'auto') {
          // decide on the first 4 bytes: RIFF/RF64 → WAV, else raw s16le
          const joined = new Uint8Array(head.length + bytes.length);
          joined.set(head);
          joined.set(bytes, head.length);
          if (joined.length < 4) {
            head = joined;
            continue;
          }
          const tag = String.fromCharCode(...joined.subarray(0, 4));
          decoder = new PcmStreamDecoder(tag === 'RIFF' || tag === 'RF64' ? 'wav' : { encoding: 's16le', sampleRate: flags.rate, channels: flags.channels }, 'stdin');
          bytes = joined;
        } else {
          decoder = new PcmStreamDecoder(enc === 'wav' ? 'wav' : { encoding: enc as PcmEncoding, sampleRate: flags.rate, channels: flags.channels }, 'stdin');
        }
      }
      const samples = decoder.write(bytes);
      const fmt = decoder.format;
      if (!fmt) continue;
      stream ??= new TimelineStream(clf, fmt.sampleRate);
      for (const s of await stream.push(samples, receivedAt)) emit({ type: 'segment', ...s });
    }
    if (!stream) throw new SerError('audio/empty', 'stdin: no audio arrived');
    const { segments, timeline } = await stream.end();
    for (const s of segments) emit({ type: 'segment', ...s });
    emit({ type: 'end', timeline });
  } finally {
    clf.dispose();
  }
}
