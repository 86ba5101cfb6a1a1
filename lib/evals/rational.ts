/**
 * Exact rational numbers over BigInt: the arithmetic eval's answers are computed with these, so a
 * deep expression's value is exact however large its numerator and denominator grow (floating point
 * would round at every step, and `eval` would both round and execute arbitrary text).
 */
export class Rational {
  /** Always in lowest terms, with a positive denominator. */
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den: bigint = 1n) {
    if (den === 0n) throw new RangeError("Rational: division by zero");
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    const g = gcd(num < 0n ? -num : num, den);
    this.num = num / g;
    this.den = den / g;
  }

  static of(n: number | bigint): Rational {
    if (typeof n === "number" && !Number.isSafeInteger(n)) throw new RangeError(`Rational.of: ${n} is not a safe integer`);
    return new Rational(BigInt(n));
  }

  add(o: Rational): Rational {
    return new Rational(this.num * o.den + o.num * this.den, this.den * o.den);
  }

  sub(o: Rational): Rational {
    return new Rational(this.num * o.den - o.num * this.den, this.den * o.den);
  }

  mul(o: Rational): Rational {
    return new Rational(this.num * o.num, this.den * o.den);
  }

  div(o: Rational): Rational {
    if (o.num === 0n) throw new RangeError("Rational: division by zero");
    return new Rational(this.num * o.den, this.den * o.num);
  }

  /** this ** k for an integer k (a negative k inverts). */
  pow(k: number): Rational {
    if (!Number.isInteger(k)) throw new RangeError(`Rational.pow: exponent ${k} is not an integer`);
    const e = BigInt(Math.abs(k));
    const r = new Rational(this.num ** e, this.den ** e);
    return k < 0 ? Rational.of(1).div(r) : r;
  }

  isZero(): boolean {
    return this.num === 0n;
  }

  isInteger(): boolean {
    return this.den === 1n;
  }

  abs(): Rational {
    return this.num < 0n ? new Rational(-this.num, this.den) : this;
  }

  equals(o: Rational): boolean {
    return this.num === o.num && this.den === o.den;
  }

  /** Compare |this| with a bound without converting to floating point. */
  absAtMost(bound: bigint): boolean {
    const n = this.num < 0n ? -this.num : this.num;
    return n <= bound * this.den;
  }

  /** The nearest double (correct to about 17 significant digits even when num and den are huge). */
  toNumber(): number {
    if (this.num === 0n) return 0;
    const shift = 20 - (digits(this.num) - digits(this.den)); // ~20 significant digits in the quotient
    const q = shift >= 0 ? (this.num * 10n ** BigInt(shift)) / this.den : this.num / (this.den * 10n ** BigInt(-shift));
    return parseFloat(`${q}e${-shift}`);
  }

  /** "7", "-7/3": the exact canonical form. */
  toString(): string {
    return this.den === 1n ? `${this.num}` : `${this.num}/${this.den}`;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

function digits(n: bigint): number {
  return (n < 0n ? -n : n).toString().length;
}
