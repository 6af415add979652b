/**
 * `GET /api/stream` (WebSocket, @fastify/websocket): live timeline for remote clients.
 *
 *   connect  ws://host/api/stream?rate=16000&encoding=s16le[&channels=1]   raw PCM
 *            ws://host/api/stream?encoding=wav                             a WAV stream (header first)
 *   client → binary messages: audio bytes, any chunking; text `{"type":"end"}` ends the stream
 *   server → text JSON: {"type":"ready",…}, one {"type":"segment", start, end, speech, emotion,
 *            probabilities, confidence, latencySec, computeSec} per finished speech segment, and at the
 *            end {"type":"end","timeline":{…}} (the timeline schema of `ser predict --timeline`);
 *            on a problem {"type":"error","code","message"} and the socket is closed.
 *
 * Guards: at most `maxStreams` at once (`stream/busy`); audio may not arrive faster than
 * `maxSpeed` × real time after a `burstSec` allowance (`stream/too-fast`); at most `maxDurationSec`
 * of audio (`infer/stream-too-long`); a text message that is not `{"type":"end"}`, a bad WAV header
 * or non-finite samples end the stream with an error (`stream/bad-message`, `audio/…`). A client that
 * disconnects mid-stream leaves nothing behind: queued audio is dropped and processing stops.
 * Processing runs on the event loop (≈ 1 % of real time per stream), one chunk at a time per stream.
 */
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket, RawData } from 'ws';
import { checkPcmFormat, PcmStreamDecoder, type PcmEncoding } from '../audio/pcm.js';
import type { ClassifierCore } from '../infer/core.js';
import { TimelineStream } from '../infer/timeline.js';
import { describeError, isSerError, SerError } from '../util/errors.js';

export interface StreamOptions {
  maxStreams: number;
  maxSpeed: number;
  burstSec: number;
  maxDurationSec: number;
  /** Largest WebSocket message (bytes). */
  maxMessageBytes: number;
}

export const STREAM_DEFAULTS: StreamOptions = { maxStreams: 4, maxSpeed: 1.5, burstSec: 5, maxDurationSec: 3600, maxMessageBytes: 1 << 20 };

/** Live counters for /api/health. */
export interface StreamStats {
  active: number;
  served: number;
  failed: number;
}

function send(ws: WebSocket, msg: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
}

/** Registers the plugin and the route; returns the live counters. */
export async function registerStream(app: FastifyInstance, clf: ClassifierCore, opts: Partial<StreamOptions> = {}): Promise<StreamStats> {
  const o: StreamOptions = { ...STREAM_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  const stats: StreamStats = { active: 0, served: 0, failed: 0 };
  await app.register(websocket, { options: { maxPayload: o.maxMessageBytes } });
  app.get('/api/stream', { websocket: true }, (ws: WebSocket, req) => {
    const q = req.query as Record<string, string | undefined>;
    let closed = false;
    let failed = false;
    const queue: Array<Uint8Array | 'end'> = [];
    let running = false;
    let decoder: PcmStreamDecoder;
    let stream: TimelineStream | null = null;
    const t0 = performance.now();
    let receivedSec = 0;
    stats.active++;

    const finish = () => {
      if (closed) return;
      closed = true;
      queue.length = 0;
      stats.active--;
    };
    const fail = (e: unknown) => {
      if (closed) return;
      failed = true;
      stats.failed++;
      const code = isSerError(e) ? e.code : 'internal';
      send(ws, { type: 'error', code, message: describeError(e) });
      finish();
      ws.close(code === 'stream/busy' ? 1013 : code.startsWith('stream/') || code.startsWith('audio/') || code.startsWith('infer/') ? 1008 : 1011, code);
    };

    // handlers first (messages may arrive at once), then the checks
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (closed) return;
      if (!isBinary) {
        const text = data.toString();
        let ok = false;
        try {
          ok = (JSON.parse(text) as { type?: unknown })?.type === 'end';
        } catch {
          /* not JSON */
        }
        if (!ok) return fail(new SerError('stream/bad-message', `text messages must be {"type":"end"}; got ${JSON.stringify(text.slice(0, 60))}`));
        queue.push('end');
      } else {
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        queue.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      }
      void pump();
    });
    ws.on('close', finish);
    ws.on('error', finish);

    try {
      if (stats.active > o.maxStreams) throw new SerError('stream/busy', `server busy: ${o.maxStreams} streams already running; retry later`);
      const encoding = (q.encoding ?? 's16le') as PcmEncoding | 'wav';
      decoder =
        encoding === 'wav'
          ? new PcmStreamDecoder('wav', 'stream')
          : new PcmStreamDecoder(checkPcmFormat({ encoding, sampleRate: Number(q.rate ?? 16000), channels: Number(q.channels ?? 1) }), 'stream');
      send(ws, { type: 'ready', format: decoder.format ?? 'wav', maxSpeed: o.maxSpeed, maxDurationSec: o.maxDurationSec });
    } catch (e) {
      fail(e);
      return;
    }

    async function pump(): Promise<void> {
      if (running) return;
      running = true;
      try {
        while (!closed && queue.length) {
          const item = queue.shift()!;
          const receivedAt = performance.now();
          if (item === 'end') {
            if (!stream) throw new SerError('stream/empty', 'the stream ended before any audio arrived');
            const { segments, timeline } = await stream.end(receivedAt);
            for (const s of segments) send(ws, { type: 'segment', ...s });
            send(ws, { type: 'end', timeline });
            stats.served++;
            finish();
            ws.close(1000, 'end');
            return;
          }
          const samples = decoder.write(item);
          const fmt = decoder.format;
          if (!fmt) continue;
          stream ??= new TimelineStream(clf, fmt.sampleRate, { maxDurationSec: o.maxDurationSec });
          receivedSec += samples.length / fmt.sampleRate;
          const wallSec = (receivedAt - t0) / 1000;
          if (receivedSec > o.burstSec + o.maxSpeed * wallSec) {
            throw new SerError(
              'stream/too-fast',
              `audio arrives faster than ${o.maxSpeed}× real time (${receivedSec.toFixed(1)} s of audio in ${wallSec.toFixed(1)} s); ` +
                'stream live audio, or POST whole files to /api/predict?timeline=1',
            );
          }
          for (const s of await stream.push(samples, receivedAt)) {
            if (closed) return;
            send(ws, { type: 'segment', ...s });
          }
        }
      } catch (e) {
        fail(e);
      } finally {
        running = false;
      }
    }
    void failed;
  });
  return stats;
}
