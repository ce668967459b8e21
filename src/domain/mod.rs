//! Domain rules with no actix or diesel in them, each tested on its own.

pub mod credit_code;
