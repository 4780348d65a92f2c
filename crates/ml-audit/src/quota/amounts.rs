//! [`Amounts`]: quantities per resource name, with fixed slots for the
//! resources nearly every container names (`cpu`, `ephemeral-storage`,
//! `memory`, `nvidia.com/gpu`) and a small sorted vector for the others, so
//! the ledger neither allocates nor hashes a resource name per container.
//! It reads like the `BTreeMap<String, Quantity>` it replaces: iteration is
//! in resource-name order.

use std::cmp::Ordering;

use super::Quantity;

/// The resources with a slot of their own, in name order.
const FIXED: [&str; 4] = ["cpu", "ephemeral-storage", "memory", "nvidia.com/gpu"];

fn slot(resource: &str) -> Option<usize> {
    match resource {
        "cpu" => Some(0),
        "ephemeral-storage" => Some(1),
        "memory" => Some(2),
        "nvidia.com/gpu" => Some(3),
        _ => None,
    }
}

/// Amounts per resource name (`cpu`, `memory`, `nvidia.com/gpu`, ...),
/// iterated in name order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Amounts {
    fixed: [Option<Quantity>; 4],
    /// Every other resource, sorted by name, names unique.
    other: Vec<(String, Quantity)>,
}

impl Amounts {
    /// No amounts.
    pub fn new() -> Amounts {
        Amounts::default()
    }

    fn find(&self, resource: &str) -> Result<usize, usize> {
        self.other
            .binary_search_by(|(k, _)| k.as_str().cmp(resource))
    }

    /// The amount of a resource.
    pub fn get(&self, resource: &str) -> Option<&Quantity> {
        match slot(resource) {
            Some(i) => self.fixed[i].as_ref(),
            None => self.find(resource).ok().map(|i| &self.other[i].1),
        }
    }

    /// The amount of a resource, to change it.
    pub fn get_mut(&mut self, resource: &str) -> Option<&mut Quantity> {
        match slot(resource) {
            Some(i) => self.fixed[i].as_mut(),
            None => match self.find(resource) {
                Ok(i) => Some(&mut self.other[i].1),
                Err(_) => None,
            },
        }
    }

    /// Whether a resource has an amount.
    pub fn contains_key(&self, resource: &str) -> bool {
        self.get(resource).is_some()
    }

    /// The amount of a resource, set to `init` first when absent (the name
    /// is copied only then, and only for a resource without a slot).
    pub fn entry_or(&mut self, resource: &str, init: Quantity) -> &mut Quantity {
        match slot(resource) {
            Some(i) => self.fixed[i].get_or_insert(init),
            None => {
                let i = match self.find(resource) {
                    Ok(i) => i,
                    Err(i) => {
                        self.other.insert(i, (resource.to_string(), init));
                        i
                    }
                };
                &mut self.other[i].1
            }
        }
    }

    /// Sets an amount, returning the one it replaces.
    pub fn insert(&mut self, resource: &str, q: Quantity) -> Option<Quantity> {
        match slot(resource) {
            Some(i) => self.fixed[i].replace(q),
            None => match self.find(resource) {
                Ok(i) => Some(std::mem::replace(&mut self.other[i].1, q)),
                Err(i) => {
                    self.other.insert(i, (resource.to_string(), q));
                    None
                }
            },
        }
    }

    /// Adds to an amount (absent counts as zero).
    pub fn add(&mut self, resource: &str, q: Quantity) {
        *self.entry_or(resource, Quantity::ZERO) += q;
    }

    /// Raises an amount to at least `q` (absent is set to `q`).
    pub fn raise(&mut self, resource: &str, q: Quantity) {
        let x = self.entry_or(resource, q);
        *x = (*x).max(q);
    }

    /// Sets an amount when absent.
    pub fn set_default(&mut self, resource: &str, q: Quantity) {
        self.entry_or(resource, q);
    }

    /// Sets every amount of `other` (they win over these).
    pub fn extend_from(&mut self, other: &Amounts) {
        for (k, v) in other {
            self.insert(k, *v);
        }
    }

    /// The number of resources with an amount.
    pub fn len(&self) -> usize {
        self.fixed.iter().flatten().count() + self.other.len()
    }

    /// Whether no resource has an amount.
    pub fn is_empty(&self) -> bool {
        self.fixed.iter().all(Option::is_none) && self.other.is_empty()
    }

    /// Resources and amounts, in resource-name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            a: self,
            fixed: 0,
            other: 0,
        }
    }

    /// Resource names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Amounts, in resource-name order.
    pub fn values(&self) -> impl Iterator<Item = &Quantity> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Every amount times `n`.
    pub fn times(&self, n: u32) -> Amounts {
        Amounts {
            fixed: self.fixed.map(|q| q.map(|q| q * n)),
            other: self
                .other
                .iter()
                .map(|(k, v)| (k.clone(), *v * n))
                .collect(),
        }
    }
}

/// Iterator over [`Amounts`] in resource-name order.
pub struct Iter<'a> {
    a: &'a Amounts,
    fixed: usize,
    other: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a Quantity);

    fn next(&mut self) -> Option<Self::Item> {
        while self.fixed < FIXED.len() && self.a.fixed[self.fixed].is_none() {
            self.fixed += 1;
        }
        let f = self
            .a
            .fixed
            .get(self.fixed)
            .and_then(Option::as_ref)
            .map(|q| (FIXED[self.fixed], q));
        let o = self.a.other.get(self.other).map(|(k, q)| (k.as_str(), q));
        match (f, o) {
            (Some(f), Some(o)) if o.0.cmp(f.0) == Ordering::Less => {
                self.other += 1;
                Some(o)
            }
            (Some(f), _) => {
                self.fixed += 1;
                Some(f)
            }
            (None, o) => {
                self.other += usize::from(o.is_some());
                o
            }
        }
    }
}

impl<'a> IntoIterator for &'a Amounts {
    type Item = (&'a str, &'a Quantity);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<(S, Quantity)> for Amounts {
    fn from_iter<I: IntoIterator<Item = (S, Quantity)>>(iter: I) -> Amounts {
        let mut a = Amounts::new();
        for (k, v) in iter {
            a.insert(k.as_ref(), v);
        }
        a
    }
}

impl serde::Serialize for Amounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::{Amounts, Quantity};

    #[test]
    fn iterates_in_name_order_like_a_btreemap() {
        let names = [
            "nvidia.com/gpu",
            "amd.com/gpu",
            "memory",
            "hugepages-2Mi",
            "cpu",
            "ephemeral-storage",
            "pods",
            "example.com/foo",
            "zz",
            "a",
        ];
        let mut a = Amounts::new();
        let mut b = std::collections::BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            a.add(n, Quantity::units(i as i64));
            b.insert(n.to_string(), Quantity::units(i as i64));
            let got: Vec<(String, Quantity)> = a.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            let want: Vec<(String, Quantity)> = b.iter().map(|(k, v)| (k.clone(), *v)).collect();
            assert_eq!(got, want);
            assert_eq!(a.len(), b.len());
        }
        for n in names {
            assert_eq!(a.get(n), b.get(n));
        }
        assert!(a.get("nope").is_none());
        a.raise("cpu", Quantity::units(100));
        assert_eq!(a.get("cpu"), Some(&Quantity::units(100)));
        a.set_default("cpu", Quantity::ZERO);
        assert_eq!(a.get("cpu"), Some(&Quantity::units(100)));
        assert_eq!(a.times(2).get("zz"), Some(&Quantity::units(16)));
    }
}
