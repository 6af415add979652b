import { cast, engine, getBackend, getKernel, mul, step } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { RELU_GRAD } from '../ReluGrad.js';

/** tfjs's Relu gradient, through SerReluGrad on backends that have it (tfjs's dy · step(x) elsewhere). */
export const reluGradientConfig: GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: ((dy: Tensor, saved: Tensor[]) => {
    const [x] = saved;
    return {
      x: () =>
        dy.dtype === 'float32' && x!.dtype === 'float32' && getKernel(RELU_GRAD, getBackend())
          ? (engine().runKernel(RELU_GRAD, { dy, x: x! }, {}) as Tensor)
          : mul(dy, cast(step(x!), 'float32')),
    };
  }) as GradConfig['gradFunc'],
};
