import { isoTimeField } from './log-time';

describe('isoTimeField', () => {
  it('is the ISO 8601 time of now, as pino writes it', () => {
    for (let i = 0; i < 2000; i++) {
      const before = Date.now();
      const field = isoTimeField();
      const after = Date.now();
      const match = /^,"time":"(.+)"$/.exec(field);
      expect(match).not.toBeNull();
      const at = Date.parse(match![1]!);
      expect(new Date(at).toISOString()).toBe(match![1]);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
    }
  });
});
