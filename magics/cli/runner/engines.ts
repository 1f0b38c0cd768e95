// The runner's adapters onto the engines it runs inside the script's process: %mprun's recorder
// and GC watch, the probes call them (loaded only when memory is measured).
export { MemRecorder, GcWatch } from '../../engines/memory-lines.js';
