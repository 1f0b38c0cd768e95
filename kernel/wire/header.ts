// New message headers: one place that stamps ids, dates and the protocol version.
import { randomUUID } from 'node:crypto';
import { PROTOCOL_VERSION, type Header } from './message.js';

export function newHeader(msg_type: string, session: string, username = 'kernel'): Header {
  return { msg_id: randomUUID(), session, username, date: new Date().toISOString(), msg_type, version: PROTOCOL_VERSION };
}
