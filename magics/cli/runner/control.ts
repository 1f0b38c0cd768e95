// Shared memory between the script's main thread and the runner's recorder thread.

/** Int32 slots of the control block. */
export const CTRL = {
  /** 0 recording, 1 a thread is writing the capture, 2 written. */
  STATE: 0,
  /** Bit per signal (SIGNALS order): the script listens to it itself. */
  OWN_HANDLERS: 1,
  /** Count of signals the main thread's listener has seen (it runs only when the event loop turns). */
  SEEN: 2,
} as const;

export const CONTROL_BYTES = 16;

/** The signals the runner stands in for: Node's default for each is to die at once, losing the profile. */
export const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type HandledSignal = (typeof SIGNALS)[number];

/** The file descriptor of the pipe the command line writes signal names to (one per line). */
export const SIGNAL_FD = 3;
