import { normalCdf } from '../src/normal-cdf';
import { twoProportionTest } from '../src/two-proportion';

// scipy 1.10 (Debian python3-scipy), produced by:
//   /usr/bin/python3 -c "from scipy.stats import norm; [print(z, repr(norm.cdf(z))) for z in [-8,-3.5,-1.96,-0.5,0,0.5,1.2,2.5,6]]"
const NORM_CDF: [number, number][] = [
  [-8, 6.22096057427174e-16],
  [-3.5, 0.00023262907903552502],
  [-1.96, 0.024997895148220435],
  [-0.5, 0.3085375387259869],
  [0, 0.5],
  [0.5, 0.6914624612740131],
  [1.2, 0.8849303297782918],
  [2.5, 0.9937903346742238],
  [6, 0.9999999990134123],
];

test('normalCdf matches scipy.stats.norm.cdf to 1e-13 relative, tails included', () => {
  for (const [z, expected] of NORM_CDF) expect(Math.abs(normalCdf(z) - expected) / expected).toBeLessThan(1e-13);
});

// The pooled z and norm.cdf(z), produced by:
//   /usr/bin/python3 -c "
//   from scipy.stats import norm; import math
//   def t(x1,n1,x2,n2):
//       p=(x1+x2)/(n1+n2); z=(x1/n1-x2/n2)/math.sqrt(p*(1-p)*(1/n1+1/n2)); print(repr(z), repr(norm.cdf(z)))
//   t(80,100,90,100); t(45,60,55,60); t(700,1000,730,1000); t(30,50,30,50)"
test.each([
  [80, 100, 90, 100, -1.9802950859533481, 0.023835190328080732],
  [45, 60, 55, 60, -2.449489742783178, 0.007152939217714824],
  [700, 1000, 730, 1000, -1.4860410484881248, 0.06863413186830811],
  [30, 50, 30, 50, 0, 0.5],
])('twoProportionTest(%i/%i vs %i/%i): z and the one-sided p as scipy computes them', (x1, n1, x2, n2, z, p) => {
  const t = twoProportionTest(x1, n1, x2, n2);
  expect(t.z).toBeCloseTo(z, 12);
  expect(t.pValueLower).toBeCloseTo(p, 12);
  expect(t.difference).toBeCloseTo(x1 / n1 - x2 / n2, 15);
});

test('no variance (all right or all wrong on both sides): no difference, p = 0.5; bad counts refused', () => {
  expect(twoProportionTest(10, 10, 20, 20)).toMatchObject({ z: 0, pValueLower: 0.5 });
  expect(() => twoProportionTest(11, 10, 1, 2)).toThrow(RangeError);
  expect(() => twoProportionTest(1, 0, 1, 2)).toThrow(RangeError);
});
