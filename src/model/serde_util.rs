//! Small serde helpers shared by the slim object types.
//!
//! Kubernetes output is forgiving in ways serde is not by default: collections
//! may be `null`, quantities may be numbers or strings, and `maxUnavailable`
//! is either an integer or a percentage. These helpers absorb that without
//! building intermediate trees.

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A short string kept inline up to 24 bytes: names, labels, the ids
/// of a large cluster's millions of fields.
pub type Str = compact_str::CompactString;

/// [`null_default`] for lists, keeping no spare capacity: a `Vec` grown
/// item by item holds room for four, and on 150k pods the unused room of
/// their container statuses alone was 110 MB.
pub fn null_default_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut v = Option::<Vec<T>>::deserialize(d)?.unwrap_or_default();
    v.shrink_to_fit();
    Ok(v)
}

/// Deserializes `null` (or a missing field, with `#[serde(default)]`) as `T::default()`.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Records only whether a field is present (and not null), skipping its contents.
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<IgnoredAny>::deserialize(d)?.is_some())
}

/// A scalar that may be written as a string or a number (`cpu: 1`, `memory: 1Gi`),
/// kept as the text a person would read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Scalar(pub Str);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.into()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(compact_str::ToCompactString::to_compact_string(&v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(compact_str::ToCompactString::to_compact_string(&v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(compact_str::ToCompactString::to_compact_string(&v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(compact_str::ToCompactString::to_compact_string(&v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Kubernetes `IntOrString`, as used by `maxUnavailable`, `minAvailable` and `maxSurge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum IntOrPercent {
    Int(i64),
    /// The text as written, e.g. `25%`. A string without `%` that parses as an
    /// integer is turned into [`IntOrPercent::Int`], as the API server does.
    Str(String),
}

impl IntOrPercent {
    /// The percentage when this is `N%`.
    pub fn percent(&self) -> Option<i64> {
        match self {
            IntOrPercent::Str(s) => s.strip_suffix('%')?.trim().parse().ok(),
            IntOrPercent::Int(_) => None,
        }
    }

    /// Resolves against `total` like `intstr.GetScaledValueFromIntOrPercent`.
    /// Returns `None` for text that is neither an integer nor a percentage.
    pub fn scaled(&self, total: i64, round_up: bool) -> Option<i64> {
        match self {
            IntOrPercent::Int(n) => Some(*n),
            IntOrPercent::Str(_) => {
                let p = self.percent()?;
                let num = p * total;
                Some(if round_up {
                    (num + 99).div_euclid(100)
                } else {
                    num.div_euclid(100)
                })
            }
        }
    }

    /// True for `0` and `0%`.
    pub fn is_zero(&self) -> bool {
        match self {
            IntOrPercent::Int(n) => *n == 0,
            IntOrPercent::Str(_) => self.percent() == Some(0),
        }
    }
}

impl fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrPercent::Int(n) => write!(f, "{n}"),
            IntOrPercent::Str(s) => f.write_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrPercent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IntOrPercent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a percentage such as \"25%\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrPercent, E> {
                Ok(IntOrPercent::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrPercent, E> {
                i64::try_from(v)
                    .map(IntOrPercent::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrPercent, E> {
                Ok(match v.trim().parse::<i64>() {
                    Ok(n) => IntOrPercent::Int(n),
                    Err(_) => IntOrPercent::Str(v.to_owned()),
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_scaling_rounds_like_kubernetes() {
        let p = IntOrPercent::Str("10%".into());
        assert_eq!(p.scaled(1, true), Some(1));
        assert_eq!(p.scaled(1, false), Some(0));
        assert_eq!(p.scaled(25, true), Some(3));
        assert_eq!(IntOrPercent::Str("100%".into()).scaled(3, true), Some(3));
        assert_eq!(IntOrPercent::Int(2).scaled(100, true), Some(2));
        assert_eq!(IntOrPercent::Str("many".into()).scaled(3, true), None);
    }

    #[test]
    fn zero_forms() {
        assert!(IntOrPercent::Int(0).is_zero());
        assert!(IntOrPercent::Str("0%".into()).is_zero());
        assert!(!IntOrPercent::Str("10%".into()).is_zero());
    }

    #[test]
    fn numeric_strings_become_ints() {
        let v: IntOrPercent = serde_json::from_str("\"3\"").unwrap();
        assert_eq!(v, IntOrPercent::Int(3));
        let v: IntOrPercent = serde_json::from_str("\"33%\"").unwrap();
        assert_eq!(v.percent(), Some(33));
    }
}
