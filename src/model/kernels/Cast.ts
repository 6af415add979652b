/** Cast for wasm: a cast to the same dtype shares memory (no copy); other casts use tfjs's kernel. */
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs-core';
import { original } from './registry.js';

function cast(args: { inputs: { x: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const { x } = args.inputs;
  if ((args.attrs as { dtype?: string }).dtype === x.dtype && x.dtype !== 'string') {
    (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  }
  return original('Cast')(args as never) as TensorInfo;
}

export const castConfig: KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: cast as unknown as KernelFunc,
};
