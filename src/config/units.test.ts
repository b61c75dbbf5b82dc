import {
  describeValue,
  isLoopback,
  parseCidr,
  parseDuration,
  parseHostPattern,
  parseListen,
  parsePositiveDuration,
  parseSize,
  parseStatusRanges,
  parseTargetUrl,
} from './units';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['0.5m', 30_000],
    [0, 0],
    ['0', 0],
    ['0s', 0],
    [' 5s ', 5000],
  ])('%p → %p ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, value: ms });
  });

  it.each([
    [5, 'expected a duration such as 250ms, 5s or 1m, got 5 (add a unit: 5s or 5ms)'],
    ['5', 'expected a duration such as 250ms, 5s or 1m, got "5" (add a unit: 5s or 5ms)'],
    ['5 seconds', 'expected a duration such as 250ms, 5s or 1m, got "5 seconds" (units: ms, s, m, h)'],
    ['1d', 'expected a duration such as 250ms, 5s or 1m, got "1d" (units: ms, s, m, h)'],
    ['-1s', 'expected a duration such as 250ms, 5s or 1m, got "-1s" (units: ms, s, m, h)'],
    ['0.5ms', 'expected a whole number of milliseconds, got "0.5ms"'],
    ['1000h', 'expected a duration of at most 596h, got "1000h"'],
    [true, 'expected a duration such as 250ms, 5s or 1m, got true'],
    [null, 'expected a duration such as 250ms, 5s or 1m, got an empty value'],
  ])('rejects %p', (input, message) => {
    expect(parseDuration(input)).toEqual({ ok: false, message });
  });

  it('parsePositiveDuration refuses 0', () => {
    expect(parsePositiveDuration('0s')).toEqual({
      ok: false,
      message: 'expected a duration greater than 0 such as 5s, got 0',
    });
    expect(parsePositiveDuration('2s')).toEqual({ ok: true, value: 2000 });
  });
});

describe('parseSize', () => {
  it.each([
    ['512b', 512],
    ['1kb', 1024],
    ['16kb', 16_384],
    ['10mb', 10 * 1024 ** 2],
    ['1gb', 1024 ** 3],
    ['10MB', 10 * 1024 ** 2],
    ['1.5kb', 1536],
    ['2KiB', 2048],
    ['1024', 1024],
    [1024, 1024],
    [0, 0],
  ])('%p → %p bytes', (input, bytes) => {
    expect(parseSize(input)).toEqual({ ok: true, value: bytes });
  });

  it.each([
    [
      '10 megabytes',
      'expected a size such as 512kb or 10mb, got "10 megabytes" (units: b, kb, mb, gb; 1kb = 1024 bytes)',
    ],
    ['1tb', 'expected a size such as 512kb or 10mb, got "1tb" (units: b, kb, mb, gb; 1kb = 1024 bytes)'],
    [-1, 'expected a size such as 512kb or 10mb or a whole number of bytes, got -1'],
    [1.5, 'expected a size such as 512kb or 10mb or a whole number of bytes, got 1.5'],
  ])('rejects %p', (input, message) => {
    expect(parseSize(input)).toEqual({ ok: false, message });
  });
});

describe('parseStatusRanges', () => {
  it.each([
    ['200-399', [{ from: 200, to: 399 }]],
    ['503', [{ from: 503, to: 503 }]],
    [503, [{ from: 503, to: 503 }]],
    [
      [502, '504', '520-530'],
      [
        { from: 502, to: 502 },
        { from: 504, to: 504 },
        { from: 520, to: 530 },
      ],
    ],
  ])('%p', (input, ranges) => {
    expect(parseStatusRanges(input)).toEqual({ ok: true, value: ranges });
  });

  it.each([['399-200'], ['600'], [99], ['2xx'], [[]]])('rejects %p', (input) => {
    expect(parseStatusRanges(input).ok).toBe(false);
  });
});

describe('parseListen', () => {
  it.each([
    ['0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:9090', { host: 'localhost', port: 9090 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    [':8080', { host: '0.0.0.0', port: 8080 }],
    [8080, { host: '0.0.0.0', port: 8080 }],
    ['8080', { host: '0.0.0.0', port: 8080 }],
  ])('%p', (input, address) => {
    expect(parseListen(input)).toEqual({ ok: true, value: address });
  });

  it.each([
    [
      '::1:8080',
      'expected host:port, [ipv6]:port, :port or a port number, got "::1:8080" (write IPv6 addresses in brackets: [::1]:8080)',
    ],
    ['host:70000', 'expected a port from 0 to 65535, got 70000'],
    [
      'bad_host:80',
      'expected host:port, [ipv6]:port, :port or a port number, got "bad_host:80" (invalid host "bad_host")',
    ],
    [
      '[1.2.3.4]:80',
      'expected host:port, [ipv6]:port, :port or a port number, got "[1.2.3.4]:80" (invalid host "1.2.3.4")',
    ],
    ['example.com', 'expected host:port, [ipv6]:port, :port or a port number, got "example.com"'],
  ])('rejects %p', (input, message) => {
    expect(parseListen(input)).toEqual({ ok: false, message });
  });

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['example.com', false],
  ])('isLoopback(%p) = %p', (host, loopback) => {
    expect(isLoopback(host)).toBe(loopback);
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.5', '10.0.0.5/32'],
    ['fd00::/8', 'fd00::/8'],
    ['::1', '::1/128'],
  ])('%p → %p', (input, cidr) => {
    expect(parseCidr(input)).toEqual({ ok: true, value: cidr });
  });

  it.each([['10.0.0.0/33'], ['10.0.0/8'], ['fd00::/129'], ['10.0.0.0/8/8'], ['10.0.0.0/x'], [10]])(
    'rejects %p',
    (input) => {
      expect(parseCidr(input).ok).toBe(false);
    },
  );
});

describe('parseTargetUrl', () => {
  it.each([
    ['http://10.0.0.5:3000', 'http://10.0.0.5:3000'],
    ['https://api.internal', 'https://api.internal'],
    ['http://[::1]:3000/', 'http://[::1]:3000'],
    ['HTTP://Example.COM:80', 'http://example.com'],
  ])('%p has origin %p', (url, origin) => {
    expect(parseTargetUrl(url)).toEqual({ ok: true, value: { url, origin } });
  });

  it.each([
    ['ftp://10.0.0.5', ''],
    ['10.0.0.5:3000', ''],
    ['http://10.0.0.5:3000/api', " (a target has no path or query; use the route's rewrite.addPrefix)"],
    ['http://10.0.0.5:3000/?x=1', " (a target has no path or query; use the route's rewrite.addPrefix)"],
    ['http://user:pw@10.0.0.5', ' (credentials do not belong in a target)'],
  ])('rejects %p', (url, hint) => {
    const expected = 'expected an http:// or https:// URL such as http://10.0.0.5:3000';
    expect(parseTargetUrl(url)).toEqual({ ok: false, message: `${expected}, got "${url}"${hint}` });
  });
});

describe('parseHostPattern', () => {
  it.each([
    ['API.Example.com', 'api.example.com'],
    ['*.example.com', '*.example.com'],
    ['localhost', 'localhost'],
  ])('%p → %p', (input, host) => {
    expect(parseHostPattern(input)).toEqual({ ok: true, value: host });
  });

  it.each([['api.example.com:8080'], ['*'], ['a..b'], ['foo.*.com'], ['exa mple.com']])(
    'rejects %p',
    (input) => {
      expect(parseHostPattern(input).ok).toBe(false);
    },
  );
});

it.each([
  ['three', '"three"'],
  [3, '3'],
  [null, 'an empty value'],
  [[1], 'a list'],
  [{ a: 1 }, 'a mapping'],
  ['x'.repeat(80), `"${'x'.repeat(57)}..."`],
])('describeValue(%p) = %s', (value, text) => {
  expect(describeValue(value)).toBe(text);
});
