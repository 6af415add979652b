import { engine, zerosLike } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { MASK_TIME } from '../MaskTime.js';

/** d/dx = the same mask applied to dy; the mask gets no gradient. */
export const maskTimeGradConfig: GradConfig = {
  kernelName: MASK_TIME,
  inputsToSave: ['mask'],
  gradFunc: ((dy: Tensor, saved: Tensor[]) => {
    const [mask] = saved;
    return {
      x: () => engine().runKernel(MASK_TIME, { x: dy, mask }, {}) as Tensor,
      mask: () => zerosLike(mask),
    };
  }) as GradConfig['gradFunc'],
};
