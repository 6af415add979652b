/**
 * A prediction worker thread: loads the model folder once, then answers `PredictJob` messages with
 * `{ id, line }` or `{ id, error: { code, message } }`. Keeps CPU-heavy decoding and inference off
 * the HTTP event loop (health checks answer while predictions run) and lets the pool kill a job
 * that outlives its deadline.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Classifier } from '../infer/classifier.js';
import { describeError, isSerError } from '../util/errors.js';
import { predictLine, type PredictJob } from './predict-line.js';

if (parentPort) {
  const port = parentPort;
  Classifier.load((workerData as { modelDir?: string }).modelDir)
    .then((clf) => {
      port.on('message', async (msg: { id: number; job: PredictJob }) => {
        try {
          const line = await predictLine(clf, msg.job);
          port.postMessage({ id: msg.id, line });
        } catch (e) {
          port.postMessage({ id: msg.id, error: { code: isSerError(e) ? e.code : 'internal', message: describeError(e) } });
        }
      });
      port.postMessage({ ready: true });
    })
    .catch((e) => port.postMessage({ fatal: { code: isSerError(e) ? e.code : 'internal', message: describeError(e) } }));
}
