/** The five AESDD emotions, in the study's (alphabetical) index order. */
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad'] as const;
export type Emotion = (typeof EMOTIONS)[number];
