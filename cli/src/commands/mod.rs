//! One module per command, as kwctl has them.

pub mod check;
