//! Distributed training.

pub mod distributed_training_without_shm;
