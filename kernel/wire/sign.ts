// HMAC signing of the four JSON frames, as the connection file's signature_scheme says.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface Signer {
  sign(frames: readonly Buffer[]): string;
  verify(signature: string, frames: readonly Buffer[]): boolean;
}

/** `scheme` is e.g. "hmac-sha256"; an empty key means messages are unsigned. */
export function createSigner(scheme: string, key: string): Signer {
  if (!key) {
    return { sign: () => '', verify: () => true };
  }
  const match = /^hmac-(.+)$/.exec(scheme);
  if (!match) throw new Error(`unsupported signature_scheme ${JSON.stringify(scheme)}`);
  const algorithm = match[1];
  const keyBuf = Buffer.from(key, 'utf8');
  // Fail early on an algorithm OpenSSL does not know.
  createHmac(algorithm, keyBuf);
  const sign = (frames: readonly Buffer[]): string => {
    const hmac = createHmac(algorithm, keyBuf);
    for (const f of frames) hmac.update(f);
    return hmac.digest('hex');
  };
  return {
    sign,
    verify(signature, frames) {
      const expected = Buffer.from(sign(frames), 'utf8');
      const given = Buffer.from(signature, 'utf8');
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
