//! (flags: next)
