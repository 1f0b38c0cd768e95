// The runner's adapters onto the engines it runs inside the script's process (recorders the probes
// call). MERGE(lines branch): MemRecorder and GcWatch move from the notebook's %mprun into an
// engine module; only these imports change.
export { MemRecorder, GcWatch } from '../../notebook/mprun.js';
