// The connection file Jupyter writes for a kernel: ports, transport, ip and the signing key.
import { readFileSync } from 'node:fs';

export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  control_port: number;
  stdin_port: number;
  iopub_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

export type SocketName = 'shell' | 'control' | 'stdin' | 'iopub' | 'hb';

export function readConnectionFile(path: string): ConnectionInfo {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConnectionInfo>;
  for (const k of ['shell_port', 'control_port', 'stdin_port', 'iopub_port', 'hb_port'] as const) {
    if (typeof raw[k] !== 'number') throw new Error(`connection file ${path}: ${k} missing or not a number`);
  }
  return {
    transport: raw.transport ?? 'tcp',
    ip: raw.ip ?? '127.0.0.1',
    key: raw.key ?? '',
    signature_scheme: raw.signature_scheme ?? 'hmac-sha256',
    ...raw,
  } as ConnectionInfo;
}

/** The address a socket binds: only the ip (or ipc path) the connection file names. */
export function endpoint(info: ConnectionInfo, name: SocketName): string {
  const port = info[`${name}_port` as const];
  return info.transport === 'ipc' ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}
