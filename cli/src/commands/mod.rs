//! One module per command, as kwctl has them.

pub mod advise;
pub mod check;
