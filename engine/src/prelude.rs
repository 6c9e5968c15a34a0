//! What every module uses from `alloc` (the standard prelude's share of it), so the crate reads
//! the same with and without `std`; and the few float functions `core` lacks.

pub(crate) use alloc::borrow::ToOwned;
pub(crate) use alloc::format;
pub(crate) use alloc::string::{String, ToString};
pub(crate) use alloc::vec;
pub(crate) use alloc::vec::Vec;

/// 2^52: from here on every `f64` is a whole number.
const WHOLE: f64 = 4_503_599_627_370_496.0;

/// `x` without its fraction, toward zero (`f64::trunc`, which `core` lacks), with its sign
/// (`-0.4` gives `-0.0`).
pub(crate) fn trunc(x: f64) -> f64 {
    if x.abs() < WHOLE {
        // Exact: below 2^52 the integer part fits an i64 (which has no -0).
        (x as i64 as f64).copysign(x)
    } else {
        x
    }
}

/// `x` rounded to the nearest whole number, halves away from zero (`f64::round`).
pub(crate) fn round(x: f64) -> f64 {
    let t = trunc(x);
    if (x - t).abs() >= 0.5 {
        t + x.signum()
    } else {
        t
    }
}

/// Whether `x` is a whole number (`x.fract() == 0.0`).
pub(crate) fn is_whole(x: f64) -> bool {
    x - trunc(x) == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunc_round_and_whole_agree_with_std() {
        let samples = [
            0.0,
            -0.0,
            -0.3,
            -1.4,
            0.4,
            0.5,
            0.6,
            -0.4,
            -0.5,
            -0.6,
            1.5,
            2.5,
            -2.5,
            1e15 + 0.5,
            123.456,
            -123.456,
            0.499_999_999_999_999_94,
            9.0e15,
            -9.0e15,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::EPSILON,
            4_503_599_627_370_495.5,
        ];
        for x in samples {
            // Bit for bit, so the sign of a zero counts.
            assert_eq!(trunc(x).to_bits(), x.trunc().to_bits(), "trunc({x})");
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "round({x})");
            assert_eq!(is_whole(x), x.fract() == 0.0, "is_whole({x})");
        }
        assert!(trunc(f64::NAN).is_nan() && round(f64::NAN).is_nan() && !is_whole(f64::NAN));
    }
}
