//! GPU access around the device plugin.

pub mod nvidia_visible_devices_without_gpu;
pub mod sensitive_host_path;
