import { engine } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { BN_TRAIN, BN_TRAIN_GRAD } from '../batchnorm-math.js';

/**
 * Gradient of SerBatchNormTrain: one SerBatchNormTrainGrad call gives all three input gradients.
 * dys = [dy, dmean, dvariance]; the engine passes zeros for outputs off the loss path (the moving
 * averages), so the direct mean/variance terms cost nothing in practice but keep the gradient exact.
 */
export const batchNormTrainGradientConfig: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: ((dys: Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [dy, dmean, dvariance] = dys;
    const [x, gamma, mean, variance] = saved;
    const [dx, dgamma, dbeta] = engine().runKernel(
      BN_TRAIN_GRAD, { dy, x, gamma, mean, variance, dmean, dvariance } as never, { epsilon: attrs['epsilon'] } as never,
    ) as Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  }) as unknown as GradConfig['gradFunc'],
};
