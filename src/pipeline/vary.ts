/**
 * @module pipeline/vary
 * Adds a field name to a Reply's `Vary` without losing what is there: edge policies (CORS adds
 * `Origin`, compression `Accept-Encoding`) decorate answers whose upstream may already vary on
 * other fields, and a shared cache downstream must see all of them (RFC 9110 §12.5.5).
 */
import type { ReplyHeaders } from './stage';

/** Appends `field` to `headers.vary` unless it is listed already or the value is `*`. */
export function appendVary(headers: ReplyHeaders, field: string): void {
  const current = headers.vary;
  if (current === undefined || current === '') {
    headers.vary = field;
    return;
  }
  const joined = typeof current === 'string' ? current : current.join(', ');
  if (listsField(joined, field)) return;
  headers.vary = `${joined}, ${field}`;
}

/** Whether a comma-separated Vary value names `field` (case-insensitive) or is `*`. */
function listsField(value: string, field: string): boolean {
  const lower = field.toLowerCase();
  for (const item of value.split(',')) {
    const name = item.trim().toLowerCase();
    if (name === lower || name === '*') return true;
  }
  return false;
}
