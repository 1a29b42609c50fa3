// Tail probabilities the detectors score with, computed in log space so that
// extreme observations keep distinct surprises instead of underflowing to 0.
// Everything here is pure and deterministic (no Math.random, no clocks).

const LN10 = Math.LN10;

/** Lanczos coefficients (g = 7, n = 9); built once: an array literal in lnGamma was allocated on every call. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; absolute error ~1e-7, ample for p-values). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const c = LANCZOS;
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln erfc(x), with relative error below 1.2e-7 everywhere (Chebyshev fit of erfc·e^{x²}). */
export function lnErfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const lnUpper = Math.log(t) - z * z + poly;
  return x >= 0 ? lnUpper : Math.log(2 - Math.exp(lnUpper));
}

/** log10 of the standard normal upper tail P(Z ≥ z). */
export function log10NormalUpper(z: number): number {
  return (lnErfc(z / Math.SQRT2) - Math.LN2) / LN10;
}

/**
 * log10 of the Poisson upper tail P(X ≥ k) for mean mu, extended to real k > 0
 * through the regularised lower incomplete gamma function P(k, mu).
 */
export function log10PoissonUpper(k: number, mu: number): number {
  if (k <= 0) return 0;
  if (!(mu > 0)) return -Infinity;
  return lnGammaPLower(k, mu) / LN10;
}

/** ln of the regularised lower incomplete gamma P(a, x). */
export function lnGammaPLower(a: number, x: number): number {
  if (x <= 0) return -Infinity;
  if (x < a + 1) {
    // Series: P = e^{-x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n)).
    let term = 1;
    let sum = 1;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * 1e-15) break;
    }
    return -x + a * Math.log(x) - lnGamma(a + 1) + Math.log(sum);
  }
  // Continued fraction for Q = 1 - P (modified Lentz); P is not small here.
  const q = Math.exp(lnGammaQUpperCF(a, x));
  return Math.log(Math.max(1 - q, 1e-300));
}

function lnGammaQUpperCF(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return -x + a * Math.log(x) - lnGamma(a) + Math.log(h);
}

/**
 * log10 of the binomial upper tail P(X ≥ k) for n trials of probability p,
 * extended to real n and k through the regularised incomplete beta I_p(k, n−k+1).
 */
export function log10BinomialUpper(k: number, n: number, p: number): number {
  if (k <= 0) return 0;
  if (k > n) return -Infinity;
  if (p <= 0) return -Infinity;
  if (p >= 1) return 0;
  return lnIncompleteBeta(p, k, n - k + 1) / LN10;
}

/**
 * log10 of the negative binomial upper tail P(X ≥ k) for mean mu and size r
 * (variance mu + mu²/r: a Poisson whose rate is Gamma distributed with shape
 * r), extended to real k > 0 through the regularised incomplete beta:
 * P(X ≥ k) = I_q(k, r) with q = mu / (mu + r). r = Infinity is the Poisson.
 */
export function log10NegBinomialUpper(k: number, mu: number, r: number): number {
  if (k <= 0) return 0;
  if (!(mu > 0)) return -Infinity;
  // Beyond this the Gamma is a spike and the incomplete beta loses precision: it is the Poisson.
  if (!(r < 1e8 * Math.max(1, mu, k))) return log10PoissonUpper(k, mu);
  return lnIncompleteBeta(mu / (mu + r), k, r) / LN10;
}

/** ln I_x(a, b), the regularised incomplete beta function. */
export function lnIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return -Infinity;
  if (x >= 1) return 0;
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - (lnGamma(a) + lnGamma(b) - lnGamma(a + b));
  if (x < (a + 1) / (a + b + 2)) return lnFront + Math.log(betaCF(x, a, b)) - Math.log(a);
  // Symmetry: I_x(a,b) = 1 − I_{1−x}(b,a); the result is not small on this side.
  const other = Math.exp(lnFront + Math.log(betaCF(1 - x, b, a)) - Math.log(b));
  return Math.log(Math.max(1 - other, 1e-300));
}

function betaCF(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/**
 * A surprise (−log10 p, "decades") as a score in [0, 1): 1 − p^(1/k). The
 * exponent k is each detector kind's calibration: the default threshold 0.9 is
 * reached at p = 10^−k.
 */
export function scoreFromSurprise(surprise: number, k: number): number {
  if (!(surprise > 0)) return 0;
  return 1 - Math.pow(10, -surprise / k);
}

/** The surprise a score corresponds to (inverse of scoreFromSurprise). */
export function surpriseForScore(score: number, k: number): number {
  if (score >= 1) return Infinity;
  if (score <= 0) return 0;
  return -k * Math.log10(1 - score);
}

/** Decay factor exp(−Δt/τ) for a non-negative Δt; τ = Infinity never decays. */
export function decay(dtMs: number, tauMs: number): number {
  return dtMs <= 0 ? 1 : Math.exp(-dtMs / tauMs);
}
