/**
 * Node-only things inference needs from lower modules: reading audio files (src/audio/load.ts)
 * and model folders (src/model/io.ts). Kept apart from deps.ts so the web bundle never sees node:.
 */
export { decodeAudio, loadAudio } from '../audio/load.js';
export { loadModelFolder, saveModelFolder } from '../model/io.js';
