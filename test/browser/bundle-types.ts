// Compile-time check (tsc -p test/browser): the profile bundle the magics send and the one the
// JupyterLab extension reads are the same type, in both directions.
import type { ProfileBundle as Sent } from '../../magics/render/profile-bundle.js';
import type { ProfileBundle as Read } from '../../labextension/src/bundle.js';
import { PROFILE_MIME as SENT_MIME } from '../../magics/render/profile-bundle.js';
import { PROFILE_MIME as READ_MIME } from '../../labextension/src/bundle.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const bundlesAgree: Same<Sent, Read> = true;
export const mimesAgree: Same<typeof SENT_MIME, typeof READ_MIME> = true;
