//! Kubernetes resource quantities, exact: every value is an integer number
//! of nano-units (10^-9), so `100m` + `900m` is exactly `1` and `1Ei` of
//! memory still fits (an `i128` holds about 1.7 * 10^38).

use std::fmt;
use std::ops::{Add, AddAssign, Mul};

/// A quantity in nano-units (`1` = 1_000_000_000, `100m` = 100_000_000).
/// Fractions below a nano-unit are rounded up, as the API server does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(pub i128);

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity(0);

    /// A whole number of units.
    pub fn units(n: i64) -> Quantity {
        Quantity(i128::from(n) * NANO)
    }

    /// Parses `100m`, `1.5Gi`, `2e3`, `+4k`, `0.1`, ... `None` when the text
    /// is not a quantity (or does not fit).
    pub fn parse(text: &str) -> Option<Quantity> {
        let s = text.trim();
        let (neg, s) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let num_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (num, suffix) = s.split_at(num_end);
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
            return None;
        }
        let mut mantissa: i128 = 0;
        let mut significant = 0;
        for b in int.bytes().chain(frac.bytes()) {
            if mantissa == 0 && b == b'0' {
                continue;
            }
            significant += 1;
            if significant > 36 {
                return None;
            }
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        let (binary_pow, dec_exp): (u32, i32) = match suffix {
            "" => (0, 0),
            "n" => (0, -9),
            "u" => (0, -6),
            "m" => (0, -3),
            "k" => (0, 3),
            "M" => (0, 6),
            "G" => (0, 9),
            "T" => (0, 12),
            "P" => (0, 15),
            "E" => (0, 18),
            "Ki" => (10, 0),
            "Mi" => (20, 0),
            "Gi" => (30, 0),
            "Ti" => (40, 0),
            "Pi" => (50, 0),
            "Ei" => (60, 0),
            e if e.starts_with(['e', 'E']) => {
                let x: i32 = e[1..].parse().ok()?;
                if !(-60..=60).contains(&x) {
                    return None;
                }
                (0, x)
            }
            _ => return None,
        };
        let mut v = mantissa.checked_mul(1i128 << binary_pow)?;
        let exp = 9 - frac.len() as i32 + dec_exp;
        if exp >= 0 {
            v = v.checked_mul(10i128.checked_pow(exp as u32)?)?;
        } else {
            let d = 10i128.checked_pow((-exp) as u32);
            v = match d {
                Some(d) => (v + d - 1) / d,
                None => i128::from(v > 0),
            };
        }
        Some(Quantity(if neg { -v } else { v }))
    }

    /// Whether it is zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self / other` as a fraction (for shares); 0 when `other` is zero.
    pub fn ratio(self, other: Quantity) -> f64 {
        if other.0 == 0 {
            0.0
        } else {
            self.0 as f64 / other.0 as f64
        }
    }

    /// Shown for a resource: cpu in cores or millicores, memory and storage
    /// in binary units, counts as numbers.
    pub fn display_for(self, resource: &str) -> String {
        let r = resource
            .rsplit('/')
            .next()
            .unwrap_or(resource)
            .trim_start_matches("requests.")
            .trim_start_matches("limits.");
        let bytes = r == "memory"
            || r.ends_with("storage")
            || r.starts_with("hugepages-")
            || resource.ends_with("requests.storage");
        if bytes && self.0.abs() >= 1024 * NANO {
            for (i, unit) in ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"].iter().enumerate() {
                let size = (1i128 << (10 * (6 - i))) * NANO;
                if self.0.abs() >= size {
                    return if self.0 % size == 0 {
                        format!("{}{unit}", self.0 / size)
                    } else {
                        let x = self.0 as f64 / size as f64;
                        format!("{}{unit}", trim(format!("{x:.2}")))
                    };
                }
            }
        }
        if self.0 % 1_000_000 == 0 && self.0 % NANO != 0 && self.0.abs() >= NANO {
            // Whole millis above one unit: `48.5`, `5.35`.
            let whole = self.0 / NANO;
            let milli = (self.0 % NANO).abs() / 1_000_000;
            return trim(format!("{whole}.{milli:03}"));
        }
        self.to_string()
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

impl fmt::Display for Quantity {
    /// The canonical decimal form: `2`, `500m`, `250u`, `3n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v % NANO == 0 {
            write!(f, "{}", v / NANO)
        } else if v % 1_000_000 == 0 {
            write!(f, "{}m", v / 1_000_000)
        } else if v % 1_000 == 0 {
            write!(f, "{}u", v / 1_000)
        } else {
            write!(f, "{v}n")
        }
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Add for Quantity {
    type Output = Quantity;
    fn add(self, o: Quantity) -> Quantity {
        Quantity(self.0.saturating_add(o.0))
    }
}

impl AddAssign for Quantity {
    fn add_assign(&mut self, o: Quantity) {
        self.0 = self.0.saturating_add(o.0);
    }
}

impl Mul<u32> for Quantity {
    type Output = Quantity;
    fn mul(self, n: u32) -> Quantity {
        Quantity(self.0.saturating_mul(i128::from(n)))
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    fn q(s: &str) -> i128 {
        Quantity::parse(s).unwrap().0
    }

    #[test]
    fn suffixes_are_exact() {
        assert_eq!(q("1"), 1_000_000_000);
        assert_eq!(q("100m"), 100_000_000);
        assert_eq!(q("0.1"), 100_000_000);
        assert_eq!(q("1.5"), 1_500_000_000);
        assert_eq!(q("250u"), 250_000);
        assert_eq!(q("7n"), 7);
        assert_eq!(q("2k"), 2_000 * 1_000_000_000);
        assert_eq!(q("1Ki"), 1024 * 1_000_000_000);
        assert_eq!(q("1.5Gi"), 1_610_612_736 * 1_000_000_000);
        assert_eq!(q("1Ei"), (1i128 << 60) * 1_000_000_000);
        assert_eq!(q("1E"), 10i128.pow(27));
        assert_eq!(q("1e3"), 1_000 * 1_000_000_000);
        assert_eq!(q("1E3"), 1_000 * 1_000_000_000);
        assert_eq!(q("12e-3"), 12_000_000);
        assert_eq!(q("-2"), -2_000_000_000);
        assert_eq!(q("+2M"), 2_000_000 * 1_000_000_000);
        assert_eq!(q(".5"), 500_000_000);
        // Below a nano-unit rounds up.
        assert_eq!(q("0.1n"), 1);
        assert_eq!(
            Quantity::parse("100m").unwrap() + Quantity::parse("900m").unwrap(),
            Quantity::units(1)
        );
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "",
            "abc",
            "1.2.3",
            "1Xi",
            "1e",
            "1e999",
            "m",
            "1 Gi",
            "99999999999999999999999999999999999999999",
        ] {
            assert!(Quantity::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn display() {
        assert_eq!(Quantity::parse("500m").unwrap().to_string(), "500m");
        assert_eq!(Quantity::parse("4").unwrap().to_string(), "4");
        assert_eq!(Quantity::parse("8Gi").unwrap().display_for("memory"), "8Gi");
        assert_eq!(
            Quantity::parse("1536Mi")
                .unwrap()
                .display_for("requests.memory"),
            "1.5Gi"
        );
        assert_eq!(
            Quantity::parse("2").unwrap().display_for("nvidia.com/gpu"),
            "2"
        );
        assert_eq!(
            Quantity::parse("1.2Gi").unwrap().display_for("memory"),
            "1.2Gi"
        );
        assert_eq!(
            Quantity::parse("48500m").unwrap().display_for("cpu"),
            "48.5"
        );
        assert_eq!(Quantity::parse("5350m").unwrap().display_for("cpu"), "5.35");
        assert_eq!(Quantity::parse("250m").unwrap().display_for("cpu"), "250m");
    }
}
