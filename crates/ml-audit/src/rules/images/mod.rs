//! Container images: mutable tags, digests, trusted registries.

pub mod latest_tag;
pub mod not_pinned_by_digest;
pub mod untrusted_registry;
