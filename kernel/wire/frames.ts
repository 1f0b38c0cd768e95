// Frames ↔ messages: identities, `<IDS|MSG>`, signature, four JSON frames, buffers.
import { DELIMITER, type Header, type Message, type OutgoingMessage } from './message.js';
import type { SignatureHistory } from './replay.js';
import type { Signer } from './sign.js';

export class WireError extends Error {
  override name = 'WireError';
}

const DELIM = Buffer.from(DELIMITER);

/**
 * Parse and verify a multipart message. Throws WireError with a reason on anything malformed,
 * unsigned, or (given a history) replayed.
 */
export function decode(frames: readonly Buffer[], signer: Signer, history?: SignatureHistory): Message {
  const at = frames.findIndex((f) => f.equals(DELIM));
  if (at < 0) throw new WireError('no <IDS|MSG> delimiter');
  if (frames.length < at + 6) throw new WireError(`expected 5 frames after the delimiter, got ${frames.length - at - 1}`);
  const signature = frames[at + 1].toString('utf8');
  const body = frames.slice(at + 2, at + 6);
  if (!signer.verify(signature, body)) throw new WireError('invalid HMAC signature');
  // Only a verified signature enters the history, so forged messages cannot evict real ones.
  if (history && !history.add(signature)) throw new WireError(`replayed message (signature ${signature.slice(0, 16)}… already seen); not executed`);
  const [header, parent_header, metadata, content] = body.map((f, i) => {
    try {
      return JSON.parse(f.toString('utf8')) as unknown;
    } catch (e) {
      throw new WireError(`frame ${['header', 'parent_header', 'metadata', 'content'][i]} is not JSON: ${(e as Error).message}`);
    }
  });
  if (!isHeader(header)) throw new WireError('header lacks msg_id, msg_type or session');
  if (!isObject(content)) throw new WireError('content is not a JSON object');
  return {
    identities: frames.slice(0, at),
    header,
    parent_header: isObject(parent_header) ? (parent_header as Message['parent_header']) : {},
    metadata: isObject(metadata) ? metadata : {},
    content,
    buffers: frames.slice(at + 6),
  };
}

export function encode(msg: OutgoingMessage, signer: Signer): Buffer[] {
  const body = [
    Buffer.from(JSON.stringify(msg.header)),
    Buffer.from(JSON.stringify(msg.parent_header)),
    Buffer.from(JSON.stringify(msg.metadata)),
    Buffer.from(JSON.stringify(msg.content ?? {}, jsonSafe)),
  ];
  return [
    ...msg.identities.map((id) => Buffer.from(id)),
    DELIM,
    Buffer.from(signer.sign(body)),
    ...body,
    ...(msg.buffers ?? []).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
  ];
}

/** JSON cannot hold BigInt; send it as a string rather than failing the whole message. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isHeader(v: unknown): v is Header {
  return isObject(v) && typeof v.msg_id === 'string' && typeof v.msg_type === 'string' && typeof v.session === 'string';
}
