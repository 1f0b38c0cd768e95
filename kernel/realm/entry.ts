// Everything the kernel runs on the main thread after its sockets are up, as one module: the
// build bundles it (scripts/bundle-kernel.mjs) so that it can be evaluated in a realm of its own.
export { startKernel } from './start.js';
