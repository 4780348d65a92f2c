//! KubeRay.

pub mod ray_head_exposed;
