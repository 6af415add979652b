import { broadcastTo, reshape, util } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/**
 * tfjs's Sum gradient, dy broadcast back over the summed axes, as a Tile (our wasm Tile: block memmoves)
 * instead of tfjs's dy · ones(x.shape) (a ones tensor the size of x and a broadcasting Multiply: two full
 * passes, ≈ 1 ms per step at batch 8 for cnn3's global pooling). The same values bit for bit (y · 1 = y).
 */
export const sumGradientConfig: GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: ((dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    const shape = x!.shape.slice();
    for (const a of util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x!.shape)) shape[a] = 1;
    return { x: () => broadcastTo(reshape(dy, shape), x!.shape) };
  }) as GradConfig['gradFunc'],
};
