//! Running recipes: phases, breakpoints.

pub mod breakpoint;
