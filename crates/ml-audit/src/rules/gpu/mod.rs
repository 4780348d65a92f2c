//! GPU access around the device plugin.

pub(super) mod nvidia_visible_devices_without_gpu;
pub(super) mod sensitive_host_path;
