/**
 * @module policies/compression/accept-encoding
 * Picks the content coding for one response from the request's Accept-Encoding (RFC 9110
 * §12.5.3): the offered coding with the highest q-value above 0; `*` rates every coding the
 * client did not name; on a tie the route's order wins (br before gzip by default). No header,
 * or only `identity`, means no compression.
 */
import type { ContentCoding } from './config';

/** The coding to use, or undefined when the client accepts none of `offered`. */
export function pickEncoding(
  header: string | undefined,
  offered: readonly ContentCoding[],
): ContentCoding | undefined {
  if (header === undefined || header === '') return undefined;
  let br = -1;
  let gzip = -1;
  let star = -1;
  for (const item of header.split(',')) {
    const semi = item.indexOf(';');
    const name = (semi === -1 ? item : item.slice(0, semi)).trim().toLowerCase();
    if (name !== 'br' && name !== 'gzip' && name !== 'x-gzip' && name !== '*') continue;
    const q = semi === -1 ? 1 : qValue(item.slice(semi + 1));
    if (name === 'br') br = q;
    else if (name === '*') star = q;
    else gzip = Math.max(gzip, q);
  }
  if (br === -1) br = Math.max(star, 0);
  if (gzip === -1) gzip = Math.max(star, 0);
  let best: ContentCoding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const q = coding === 'br' ? br : gzip;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/** `q=0.8` among the parameters → 0.8; a missing or malformed q counts as 1 and 0 (refused) respectively. */
function qValue(params: string): number {
  for (const param of params.split(';')) {
    const eq = param.indexOf('=');
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const q = Number(param.slice(eq + 1).trim());
    return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
  }
  return 1;
}
