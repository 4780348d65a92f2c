//! Container images: mutable tags, digests, trusted registries.

pub(super) mod latest_tag;
pub(super) mod not_pinned_by_digest;
pub(super) mod untrusted_registry;
