/**
 * @module http/methods
 * The standard HTTP methods: RFC 9110 §9.3 plus PATCH (RFC 5789). `validate` warns about any
 * other method in a config, and metrics count any other as `OTHER` (bounded label values).
 */
export const STANDARD_METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
];
