//! What several test binaries share. Each binary uses part of it.
#![allow(dead_code)]

#[cfg(unix)]
pub mod pty;
pub mod serve;
