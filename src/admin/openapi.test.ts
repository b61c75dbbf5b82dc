/**
 * The OpenAPI document and the endpoint table describe the same API.
 */
import { ENDPOINTS } from './endpoints';
import { OPENAPI } from './openapi';

/** An OpenAPI path as a concrete sample path the endpoint patterns should match. */
const sample = (path: string) => path.replace(/\{[^}]+\}/g, 'x');

describe('admin OpenAPI document', () => {
  it('is OpenAPI 3.1 with bearer auth', () => {
    expect(OPENAPI.openapi).toBe('3.1.0');
    expect(OPENAPI.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('describes every endpoint, with the right method, and nothing else', () => {
    const documented = Object.entries(OPENAPI.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${sample(path)}`),
    );
    const served = ENDPOINTS.map((e) => {
      const path = documented.map((d) => d.split(' ')[1]!).find((p) => e.pattern.test(p));
      return `${e.method} ${path ?? e.pattern.source}`;
    });
    expect(new Set(served)).toEqual(new Set(documented));
  });
});
