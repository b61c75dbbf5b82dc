/**
 * Unit tests: Vary names, value normalisation and variant matching.
 */
import { isVaryStar, normalizeValue, sameVariant, varyKeyOf, varyMatches, varyNames } from './vary';

describe('vary', () => {
  it('lists names lower-cased, deduplicated and sorted', () => {
    expect(varyNames('Accept-Language, accept-encoding,Accept-Language')).toEqual([
      'accept-encoding',
      'accept-language',
    ]);
    expect(varyNames(['Accept', 'Origin'])).toEqual(['accept', 'origin']);
    expect(varyNames(undefined)).toEqual([]);
  });

  it.each([
    ['*', true],
    ['Accept, *', true],
    ['Accept', false],
  ])('Vary %j is * : %s', (vary, star) => {
    expect(isVaryStar(vary)).toBe(star);
  });

  it('normalises whitespace around commas but keeps case', () => {
    expect(normalizeValue(' gzip ,br  ')).toBe('gzip, br');
    expect(normalizeValue(['gzip', 'br'])).toBe('gzip, br');
    expect(normalizeValue('EN')).toBe('EN');
  });

  it.each([
    [{ 'accept-language': 'en' }, { 'accept-language': 'en' }, true],
    [{ 'accept-language': 'en' }, { 'accept-language': 'fr' }, false],
    [{ 'accept-language': 'en' }, {}, false],
    [{}, {}, true],
    [{}, { 'accept-language': '' }, false],
    [{ 'accept-encoding': 'gzip,br' }, { 'accept-encoding': 'gzip, br' }, true],
  ])('stored for %j, asked with %j: %s', (stored, asked, matches) => {
    const key = varyKeyOf(['accept-language', 'accept-encoding'], stored);
    expect(varyMatches(key, asked)).toBe(matches);
  });

  it('matches everything without Vary', () => {
    expect(varyKeyOf([], { a: 'b' })).toBeUndefined();
    expect(varyMatches(undefined, { a: 'b' })).toBe(true);
  });

  it('tells variants apart', () => {
    const en = varyKeyOf(['accept-language'], { 'accept-language': 'en' });
    const fr = varyKeyOf(['accept-language'], { 'accept-language': 'fr' });
    expect(sameVariant(en, varyKeyOf(['accept-language'], { 'accept-language': 'en' }))).toBe(true);
    expect(sameVariant(en, fr)).toBe(false);
    expect(sameVariant(undefined, undefined)).toBe(true);
    expect(sameVariant(en, undefined)).toBe(false);
  });
});
