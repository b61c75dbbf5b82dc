/**
 * @module policies/cors/checks
 * The CORS rule a schema cannot express: `origins: ["*"]` with `credentials: true`. Browsers
 * refuse `Access-Control-Allow-Origin: *` on a credentialed request, and echoing any origin
 * instead would hand every site on the web the user's cookies, so it is a config error rather
 * than something the gateway quietly works around. Runs on possibly invalid data.
 */
import { ptr } from '../../config/schema-errors';
import type { Issues } from '../../config/validate';
import { rec, type Rec } from '../../config/raw-data';

/** Records the CORS problems of `server.cors` and every route's `cors`. */
export function checkCors(root: Rec | undefined, issues: Issues): void {
  checkBlock(rec(rec(root?.server)?.cors), ['server', 'cors'], issues);
  const routes = Array.isArray(root?.routes) ? (root.routes as unknown[]) : [];
  routes.forEach((route, i) => checkBlock(rec(rec(route)?.cors), ['routes', i, 'cors'], issues));
}

function checkBlock(cors: Rec | undefined, at: readonly (string | number)[], issues: Issues): void {
  if (cors?.credentials !== true || !Array.isArray(cors.origins)) return;
  const star = cors.origins.indexOf('*');
  if (star !== -1)
    issues.add(
      ptr(...at, 'origins', star),
      'origin "*" cannot be used with credentials: true (browsers refuse it); list the origins instead',
    );
}
