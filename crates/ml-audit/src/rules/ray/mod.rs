//! KubeRay.

pub(super) mod ray_head_exposed;
