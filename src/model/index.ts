/** Public API of the model module: backend, architectures, masked layers, metadata, save/load (the trainer is in src/train). */
export { initBackend, type BackendName, type BackendOptions } from './backend.js';
export { registerKernels, unregisterWasmKernels, wasmKernels, cpuKernels, gradients } from './kernels/index.js';
export {
  ARCH_NAMES, buildModel, batchArrays, makeBatch, poolFactor, fixedFrames, checkArch, resolveArchOptions,
  type ArchName, type ArchOptions, type ResolvedArchOptions, type BatchArrays,
} from './architectures.js';
export { MaskTime, MaskedGlobalPool, SampleDropout, downsampleMask, type PoolMode } from './layers.js';
export { MODEL_FORMAT_VERSION, TOOLKIT_VERSION, validateMetadata, completeMetadata, type ModelMetadata, type MetadataInput, type WeightsIntegrity } from './metadata.js';
export { loadModelFromUrl, modelToFiles, modelFromFiles, type LoadedModel, type ModelFiles } from './files.js';
export { startKernelProfile, cpuNow, type KernelTime, type KernelProfiler } from './profile.js';
