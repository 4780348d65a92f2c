//! Distributed training.

pub(super) mod distributed_training_without_shm;
